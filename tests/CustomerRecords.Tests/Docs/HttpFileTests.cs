using System.Text.RegularExpressions;
using CustomerRecords.Tests.Deploy;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Docs;

/// <summary>
/// <c>CustomerRecords.http</c> (requests for VS Code, Rider, Visual Studio) covers every operation of the
/// OpenAPI document the service serves, and sends nothing the document does not describe.
/// </summary>
public sealed partial class HttpFileTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private CustomerApiFactory _factory = null!;
    private OpenApiContract _contract = null!;

    public async Task InitializeAsync()
    {
        _factory = new CustomerApiFactory(CustomerApiFactory.SqliteSettings(_directory.Path));
        using var client = _factory.CreateClient();
        _contract = OpenApiContract.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public void EveryOperationHasARequestAndEveryRequestIsDocumented()
    {
        var requests = Requests(Repo.Read("CustomerRecords.http"));
        Assert.True(requests.Count >= 10, $"only {requests.Count} requests parsed");

        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (method, path) in requests)
        {
            var operation = _contract.OperationOf(method, path);
            Assert.True(operation is not null, $"CustomerRecords.http: {method} {path} is not an operation of /openapi/v1.json");
            covered.Add(operation!);
        }

        var missing = _contract.Operations.Where(o => !covered.Contains(o)).ToList();
        Assert.True(missing.Count == 0, "CustomerRecords.http has no request for: " + string.Join(", ", missing));
    }

    /// <summary>Each request line (<c>METHOD {{base}}/path?query</c>) as method and path.</summary>
    private static List<(string Method, string Path)> Requests(string text)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        var requests = new List<(string, string)>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (Variable().Match(line) is { Success: true } variable)
            {
                variables[variable.Groups[1].Value] = variable.Groups[2].Value.Trim();
                continue;
            }

            if (RequestLine().Match(line) is { Success: true } request)
            {
                var target = Placeholder().Replace(request.Groups[2].Value, m => variables.GetValueOrDefault(m.Groups[1].Value, m.Value));
                var uri = new Uri(target, UriKind.Absolute);
                requests.Add((request.Groups[1].Value, uri.AbsolutePath));
            }
        }

        return requests;
    }

    [GeneratedRegex(@"^@([A-Za-z0-9_]+)\s*=\s*(.*)$")]
    private static partial Regex Variable();

    [GeneratedRegex(@"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(\S+)(?:\s+HTTP/[0-9.]+)?$")]
    private static partial Regex RequestLine();

    [GeneratedRegex(@"\{\{([A-Za-z0-9_]+)\}\}")]
    private static partial Regex Placeholder();
}
