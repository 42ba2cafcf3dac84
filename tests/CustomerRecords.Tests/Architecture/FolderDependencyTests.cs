using System.Text.RegularExpressions;
using CustomerRecords.Tests.Deploy;

namespace CustomerRecords.Tests.Architecture;

/// <summary>
/// The service's folders depend on each other one way only: a folder never uses a folder that uses it
/// back, directly or around a longer loop. Read from the source: <c>using</c> lines, fully qualified
/// names and names qualified relative to the service's namespace (<c>Customers.CustomerStore</c>).
/// </summary>
public sealed partial class FolderDependencyTests
{
    private const string Service = "src/CustomerRecords.Api";

    [Fact]
    public void NoFolderDependsOnAFolderThatDependsOnIt()
    {
        var graph = ReadGraph();
        Assert.True(graph.Count >= 10, $"expected the service's folders, found {string.Join(", ", graph.Keys)}");

        var loops = FindLoops(graph);

        Assert.True(loops.Count == 0, "Folder dependency loops:\n" + string.Join("\n", loops.Select(l => string.Join(" -> ", l))));
    }

    [Fact]
    public void TheReaderSeesEachKindOfReference()
    {
        // The check is only as good as its reading of the source: each form of reference must count.
        var folders = new HashSet<string>(["Data", "Customers", "Errors"], StringComparer.Ordinal);
        const string source = """
            using CustomerRecords.Api.Data;
            namespace CustomerRecords.Api.Caching;
            /// <see cref="Customers.CustomerStore"/>
            class C { object x = CustomerRecords.Api.Errors.Problems.TypePrefix; string s = "Data.Ignored"; int n = exception.Data.Count; }
            """;

        Assert.Equal(["Customers", "Data", "Errors"], References(source, folders).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ALoopIsFound()
    {
        var graph = new Dictionary<string, HashSet<string>>
        {
            ["A"] = ["B"],
            ["B"] = ["C"],
            ["C"] = ["A"],
            ["D"] = ["A"],
        };

        var loop = Assert.Single(FindLoops(graph));
        Assert.Equal(["A", "B", "C"], loop.Order(StringComparer.Ordinal));
    }

    private static Dictionary<string, HashSet<string>> ReadGraph()
    {
        var root = Repo.PathOf(Service);
        var folders = Directory.GetDirectories(root)
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj" or "Properties"))
            .Select(name => name!)
            .ToHashSet(StringComparer.Ordinal);
        var graph = folders.ToDictionary(f => f, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                foreach (var used in References(File.ReadAllText(file), folders))
                {
                    if (used != folder)
                    {
                        graph[folder].Add(used);
                    }
                }
            }
        }

        return graph;
    }

    /// <summary>The folders a source file refers to.</summary>
    private static HashSet<string> References(string source, HashSet<string> folders)
    {
        // A cref in a doc comment is a real reference (the compiler resolves it): unquote it before strings go.
        var code = StringLiteral().Replace(Cref().Replace(source, "cref=$1 "), "\"\"");
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Qualified().Matches(code))
        {
            if (folders.Contains(match.Groups[1].Value))
            {
                found.Add(match.Groups[1].Value);
            }
        }

        foreach (Match match in Relative().Matches(code))
        {
            if (folders.Contains(match.Groups[1].Value))
            {
                found.Add(match.Groups[1].Value);
            }
        }

        return found;
    }

    /// <summary>Every loop (strongly connected set of two or more folders), by Tarjan's algorithm.</summary>
    private static List<List<string>> FindLoops(Dictionary<string, HashSet<string>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var loops = new List<List<string>>();
        var next = 0;

        void Visit(string node)
        {
            index[node] = low[node] = next++;
            stack.Push(node);
            onStack.Add(node);
            foreach (var target in graph.GetValueOrDefault(node) ?? [])
            {
                if (!index.ContainsKey(target))
                {
                    Visit(target);
                    low[node] = Math.Min(low[node], low[target]);
                }
                else if (onStack.Contains(target) && index.TryGetValue(target, out var targetIndex))
                {
                    low[node] = Math.Min(low[node], targetIndex);
                }
            }

            if (low[node] == index[node])
            {
                var component = new List<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != node);

                if (component.Count > 1)
                {
                    loops.Add(component);
                }
            }
        }

        foreach (var node in graph.Keys.Order(StringComparer.Ordinal))
        {
            if (!index.ContainsKey(node))
            {
                Visit(node);
            }
        }

        return loops;
    }

    // Plain and verbatim string literals (raw literals hold SQL and never a type name worth counting).
    [GeneratedRegex("\"\"\"[\\s\\S]*?\"\"\"|@\"(?:[^\"]|\"\")*\"|\"(?:[^\"\\\\\\n]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex("cref=\"([^\"]*)\"")]
    private static partial Regex Cref();

    [GeneratedRegex(@"\bCustomerRecords\.Api\.([A-Z]\w*)\b")]
    private static partial Regex Qualified();

    // "Customers.CustomerStore" but not "exception.Data.Count" or "CustomerRecords.Api.Data" (counted above).
    [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.[A-Z]\w*")]
    private static partial Regex Relative();
}
