using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace CustomerRecords.Tests.Deploy;

/// <summary>
/// Loads YAML into <see cref="JsonNode"/>s. CloudFormation short forms (<c>!Ref</c>, <c>!GetAtt</c>, <c>!Sub</c>...)
/// become their long forms (<c>{"Ref": ...}</c>, <c>{"Fn::GetAtt": [...]}</c>), as CloudFormation reads them;
/// merge keys (<c>&lt;&lt;: *anchor</c>, used by compose files) are applied. Scalars stay strings.
/// </summary>
internal static class Yaml
{
    public static JsonObject LoadFile(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(path)))
        {
            stream.Load(reader);
        }

        return Assert.IsType<JsonObject>(Convert(stream.Documents.Single().RootNode));
    }

    private static JsonNode? Convert(YamlNode node)
    {
        var tag = node.Tag.IsEmpty ? null : node.Tag.Value;
        JsonNode? value = node switch
        {
            YamlScalarNode scalar => ScalarValue(scalar, tag),
            YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(Convert).ToArray()),
            YamlMappingNode mapping => ConvertMapping(mapping),
            _ => throw new NotSupportedException(node.GetType().Name),
        };

        if (tag is null || !tag.StartsWith('!') || tag.StartsWith("!!", StringComparison.Ordinal))
        {
            return value;
        }

        var name = tag[1..];
        return name switch
        {
            "Ref" or "Condition" => new JsonObject { [name] = value },
            "GetAtt" when value is JsonValue dotted => new JsonObject
            {
                ["Fn::GetAtt"] = new JsonArray(SplitGetAtt(dotted.GetValue<string>()).Select(p => (JsonNode)p).ToArray()),
            },
            _ => new JsonObject { ["Fn::" + name] = value },
        };
    }

    private static JsonValue? ScalarValue(YamlScalarNode scalar, string? tag)
        => scalar.Value is null || (tag is null && scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "~" or "null" or "")
            ? null
            : JsonValue.Create(scalar.Value);

    private static string[] SplitGetAtt(string dotted)
    {
        var dot = dotted.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? [dotted] : [dotted[..dot], dotted[(dot + 1)..]];
    }

    private static JsonObject ConvertMapping(YamlMappingNode mapping)
    {
        var result = new JsonObject();
        foreach (var (key, value) in mapping.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            if (name == "<<")
            {
                continue;
            }

            result[name] = Convert(value);
        }

        // Merge keys: explicit entries win over merged ones.
        if (mapping.Children.TryGetValue(new YamlScalarNode("<<"), out var merged))
        {
            var sources = merged is YamlSequenceNode list ? list.Children : [merged];
            foreach (var source in sources.OfType<YamlMappingNode>())
            {
                foreach (var (name, value) in ConvertMapping(source))
                {
                    if (!result.ContainsKey(name))
                    {
                        result[name] = value?.DeepClone();
                    }
                }
            }
        }

        return result;
    }
}
