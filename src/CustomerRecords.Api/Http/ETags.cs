using System.Globalization;
using Microsoft.Net.Http.Headers;

namespace CustomerRecords.Api.Http;

/// <summary>ETags derived from the row version: <c>"7"</c> is version 7 of that customer.</summary>
internal static class ETags
{
    public static string For(int version) => string.Create(CultureInfo.InvariantCulture, $"\"{version}\"");

    /// <summary>If-None-Match (weak comparison): true when the client's copy is current, so 304 fits.</summary>
    public static bool NoneMatch(HttpRequest request, int version)
    {
        if (!EntityTagHeaderValue.TryParseList(request.Headers.IfNoneMatch, out var tags))
        {
            return false;
        }

        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || VersionOf(tag.Tag) == version)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The versions an If-Match header allows (strong comparison). <c>Present</c> false: no header;
    /// <c>Versions</c> null with Present: <c>*</c> (any current version).
    /// </summary>
    public static (bool Present, IReadOnlyList<int>? Versions) IfMatch(HttpRequest request)
    {
        var header = request.Headers.IfMatch;
        if (header.Count == 0)
        {
            return (false, null);
        }

        if (!EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return (true, []);
        }

        var versions = new List<int>(tags.Count);
        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any))
            {
                return (true, null);
            }

            if (!tag.IsWeak && VersionOf(tag.Tag) is { } version)
            {
                versions.Add(version);
            }
        }

        return (true, versions);
    }

    private static int? VersionOf(Microsoft.Extensions.Primitives.StringSegment tag) =>
        tag.Length > 2 && int.TryParse(tag.AsSpan(1, tag.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : null;
}
