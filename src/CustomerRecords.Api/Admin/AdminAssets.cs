using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace CustomerRecords.Api.Admin;

/// <summary>One static file of the page: its bytes, media type and strong ETag (a hash of the bytes).</summary>
internal sealed record AdminAsset(byte[] Content, string ContentType, EntityTagHeaderValue ETag);

/// <summary>
/// The page's files, embedded in the assembly under <c>Admin/wwwroot</c> (see the csproj's manifest) and read once:
/// they are a few kilobytes, and an in-memory table answers each request without touching the file provider.
/// </summary>
internal sealed class AdminAssets
{
    private readonly FrozenDictionary<string, AdminAsset> _files;

    public AdminAssets()
    {
        var provider = new ManifestEmbeddedFileProvider(typeof(AdminAssets).Assembly, "Admin/wwwroot");
        var types = new FileExtensionContentTypeProvider();
        var files = new Dictionary<string, AdminAsset>(StringComparer.Ordinal);
        Collect(provider, "", types, files);
        _files = files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every file's path relative to wwwroot, with <c>/</c> separators.</summary>
    public IEnumerable<string> Paths => _files.Keys;

    public AdminAsset? Find(string path) => _files.GetValueOrDefault(path);

    private static void Collect(IFileProvider provider, string directory, FileExtensionContentTypeProvider types, Dictionary<string, AdminAsset> files)
    {
        foreach (var entry in provider.GetDirectoryContents("/" + directory))
        {
            var path = directory.Length == 0 ? entry.Name : directory + "/" + entry.Name;
            if (entry.IsDirectory)
            {
                Collect(provider, path, types, files);
                continue;
            }

            using var stream = entry.CreateReadStream();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            if (!types.TryGetContentType(entry.Name, out var type))
            {
                type = "application/octet-stream";
            }
            else if (type.StartsWith("text/", StringComparison.Ordinal))
            {
                type += "; charset=utf-8";
            }

            var tag = new EntityTagHeaderValue("\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12)) + "\"");
            files[path] = new AdminAsset(content, type, tag);
        }
    }
}
