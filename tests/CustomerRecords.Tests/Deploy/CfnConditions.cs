using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CustomerRecords.Tests.Deploy;

/// <summary>
/// What CloudFormation would create for one set of parameter values: the template's Conditions evaluated, resources
/// and outputs whose condition is false removed, every <c>Fn::If</c> replaced by its chosen branch and every
/// <c>AWS::NoValue</c> dropped. The posture tests then read the result like any other template.
/// </summary>
internal static partial class CfnConditions
{
    public static CfnTemplate Resolve(CfnTemplate template, IReadOnlyDictionary<string, string> parameters)
    {
        var root = template.Root.DeepClone().AsObject();
        var values = ParameterValues(root, parameters);
        var definitions = root["Conditions"]?.AsObject() ?? [];
        var cache = new Dictionary<string, bool>(StringComparer.Ordinal);

        bool Condition(string name)
        {
            if (!cache.TryGetValue(name, out var value))
            {
                var definition = definitions[name] ?? throw new InvalidOperationException($"Condition {name} is not defined.");
                cache[name] = value = Evaluate(definition);
            }

            return value;
        }

        bool Evaluate(JsonNode node)
        {
            var o = node.AsObject();
            var (function, argument) = Assert.Single(o);
            return function switch
            {
                "Condition" => Condition((string)argument!),
                "Fn::Not" => !Evaluate(argument!.AsArray().Single()!),
                "Fn::And" => argument!.AsArray().All(a => Evaluate(a!)),
                "Fn::Or" => argument!.AsArray().Any(a => Evaluate(a!)),
                "Fn::Equals" => string.Equals(Scalar(argument!.AsArray()[0]), Scalar(argument.AsArray()[1]), StringComparison.Ordinal),
                _ => throw new NotSupportedException($"{function} in a condition"),
            };
        }

        string Scalar(JsonNode? node) => node switch
        {
            JsonObject o when o["Ref"] is JsonValue r => values.TryGetValue((string)r!, out var v)
                ? v
                : throw new InvalidOperationException($"Condition refers to {r}, which is not a parameter."),
            JsonValue v => v.ToString(),
            _ => throw new NotSupportedException(node?.ToJsonString()),
        };

        foreach (var section in new[] { "Resources", "Outputs" })
        {
            if (root[section] is not JsonObject entries)
            {
                continue;
            }

            foreach (var name in entries.Select(e => e.Key).ToList())
            {
                var entry = entries[name]!.AsObject();
                if (entry["Condition"] is JsonValue c && !Condition((string)c!))
                {
                    entries.Remove(name);
                    continue;
                }

                entries[name] = Choose(entry.DeepClone(), Condition);
            }
        }

        return new CfnTemplate(root);
    }

    /// <summary>The value of every parameter: the one given, or the template's default.</summary>
    public static Dictionary<string, string> ParameterValues(JsonObject root, IReadOnlyDictionary<string, string> parameters)
    {
        var declared = root["Parameters"]!.AsObject();
        foreach (var name in parameters.Keys)
        {
            Assert.True(declared.ContainsKey(name), $"{name} is not a parameter of the template");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, declaration) in declared)
        {
            if (parameters.TryGetValue(name, out var given))
            {
                if (declaration!["AllowedValues"] is JsonArray allowed)
                {
                    Assert.Contains(given, allowed.Select(a => a!.ToString()));
                }

                if (declaration["MinValue"] is JsonValue min)
                {
                    Assert.True(double.Parse(given, CultureInfo.InvariantCulture) >= double.Parse(min.ToString(), CultureInfo.InvariantCulture), $"{name}={given} < MinValue");
                }

                if (declaration["MaxValue"] is JsonValue max)
                {
                    Assert.True(double.Parse(given, CultureInfo.InvariantCulture) <= double.Parse(max.ToString(), CultureInfo.InvariantCulture), $"{name}={given} > MaxValue");
                }

                values[name] = given;
            }
            else if (declaration!["Default"] is JsonValue d)
            {
                values[name] = d.ToString();
            }
        }

        return values;
    }

    /// <summary>
    /// Every reference in a resolved template that points nowhere: a <c>Ref</c>, <c>Fn::GetAtt</c> or <c>${...}</c> in
    /// <c>Fn::Sub</c> naming neither a parameter, a pseudo parameter, a resource that exists nor a variable of that Sub.
    /// </summary>
    public static IReadOnlyList<string> DanglingReferences(CfnTemplate template)
    {
        var names = new HashSet<string>(template.Resources.Select(r => r.Key), StringComparer.Ordinal);
        names.UnionWith(template.Root["Parameters"]!.AsObject().Select(p => p.Key));
        var problems = new List<string>();
        VisitReferences(template, (name, where) =>
        {
            if (!names.Contains(name))
            {
                problems.Add($"{where}: {name}");
            }
        });
        return problems;
    }

    /// <summary>Every resource or parameter name that a Ref, Fn::GetAtt or Fn::Sub of the template uses.</summary>
    public static HashSet<string> ReferencedNames(CfnTemplate template)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        VisitReferences(template, (name, _) => used.Add(name));
        return used;
    }

    /// <summary>Calls <paramref name="visit"/> with each referenced name (pseudo parameters and Sub variables left out) and where it is used.</summary>
    private static void VisitReferences(CfnTemplate template, Action<string, string> visit)
    {
        void Check(string name, string where, ISet<string> locals)
        {
            if (!name.StartsWith("AWS::", StringComparison.Ordinal) && !locals.Contains(name))
            {
                visit(name, where);
            }
        }

        void Walk(JsonNode? node, string where, ISet<string> locals)
        {
            switch (node)
            {
                case JsonObject o when o["Ref"] is JsonValue r:
                    Check((string)r!, where, locals);
                    break;
                case JsonObject o when o["Fn::GetAtt"] is JsonArray a:
                    Check((string)a[0]!, where, locals);
                    break;
                case JsonObject o when o["Fn::Sub"] is { } sub:
                    var (text, variables) = sub is JsonArray list ? ((string)list[0]!, list[1]!.AsObject()) : ((string)sub!, []);
                    var inner = new HashSet<string>(locals, StringComparer.Ordinal);
                    inner.UnionWith(variables.Select(v => v.Key));
                    foreach (Match m in SubVariable().Matches(text))
                    {
                        Check(m.Groups[1].Value.Split('.')[0], where, inner);
                    }

                    foreach (var (_, value) in variables)
                    {
                        Walk(value, where, locals);
                    }

                    break;
                case JsonObject o:
                    foreach (var (key, value) in o)
                    {
                        Walk(value, where, locals);
                    }

                    break;
                case JsonArray a:
                    foreach (var item in a)
                    {
                        Walk(item, where, locals);
                    }

                    break;
            }
        }

        foreach (var section in new[] { "Resources", "Outputs" })
        {
            foreach (var (name, entry) in template.Root[section]?.AsObject() ?? [])
            {
                Walk(entry, $"{section}/{name}", new HashSet<string>(StringComparer.Ordinal));
                foreach (var dependency in CfnTemplate.Items(entry!["DependsOn"]))
                {
                    Check((string)dependency!, $"{section}/{name}/DependsOn", new HashSet<string>());
                }
            }
        }
    }

    private static JsonNode? Choose(JsonNode? node, Func<string, bool> condition)
    {
        switch (node)
        {
            case JsonObject o when o["Fn::If"] is JsonArray arguments:
                return Choose(condition((string)arguments[0]!) ? arguments[1]!.DeepClone() : arguments[2]!.DeepClone(), condition);
            case JsonObject o:
                var result = new JsonObject();
                foreach (var (key, value) in o)
                {
                    var chosen = Choose(value?.DeepClone(), condition);
                    if (!IsNoValue(chosen))
                    {
                        result[key] = chosen;
                    }
                }

                return result;
            case JsonArray a:
                return new JsonArray(a.Select(item => Choose(item?.DeepClone(), condition)).Where(item => !IsNoValue(item)).ToArray());
            default:
                return node;
        }
    }

    private static bool IsNoValue(JsonNode? node) => node is JsonObject o && o.Count == 1 && (string?)o["Ref"] == "AWS::NoValue";

    // ${Name} or ${Name.Attribute}; ${!Literal} is not a reference.
    [GeneratedRegex(@"\$\{(?!!)([A-Za-z0-9:]+(?:\.[A-Za-z0-9.]+)?)\}")]
    private static partial Regex SubVariable();
}
