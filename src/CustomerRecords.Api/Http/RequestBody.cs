using Microsoft.Net.Http.Headers;

namespace CustomerRecords.Api.Http;

/// <summary>Why a body was refused, as a status code and a sentence for the client.</summary>
internal readonly record struct BodyError(int Status, string Message);

/// <summary>Reads a JSON request body with the service's limits: media type, size, and charset.</summary>
internal static class RequestBody
{
    /// <summary>The largest body any customer route accepts; a customer is well under 1 KiB.</summary>
    public const int MaxBytes = 64 * 1024;

    public const string Json = "application/json";
    public const string MergePatchJson = "application/merge-patch+json";

    /// <summary>Reads the whole body if its media type is one of <paramref name="mediaTypes"/> and it fits the limit.</summary>
    public static async Task<(byte[]? Body, BodyError? Error)> ReadAsync(HttpRequest request, string[] mediaTypes, CancellationToken ct)
    {
        if (!IsAccepted(request.ContentType, mediaTypes))
        {
            return (null, new BodyError(StatusCodes.Status415UnsupportedMediaType, $"The body must be sent as {string.Join(" or ", mediaTypes)} (UTF-8)."));
        }

        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        var buffer = new byte[(int)Math.Min(request.ContentLength ?? 1024, MaxBytes) + 1];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length > MaxBytes)
                {
                    return (null, TooLarge());
                }

                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxBytes + 1));
            }

            var read = await request.Body.ReadAsync(buffer.AsMemory(length), ct);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        if (length > MaxBytes)
        {
            return (null, TooLarge());
        }

        if (length == 0)
        {
            return (null, new BodyError(StatusCodes.Status400BadRequest, "The request needs a JSON body."));
        }

        Array.Resize(ref buffer, length);
        return (buffer, null);
    }

    private static BodyError TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, $"The body is larger than {MaxBytes / 1024} KiB.");

    private static bool IsAccepted(string? contentType, string[] mediaTypes)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            return false;
        }

        if (parsed.Charset.HasValue && !parsed.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var mediaType in mediaTypes)
        {
            if (parsed.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
