using System.Diagnostics;
using OpenTelemetry;

namespace CustomerRecords.Api.Redaction;

/// <summary>
/// Strips span data that can carry customer data before any exporter sees it: database error texts quote the
/// offending value (MySQL's duplicate-key message contains the e-mail), and query strings hold search terms.
/// </summary>
internal sealed class PiiScrubbingProcessor : BaseProcessor<Activity>
{
    private static readonly string[] SensitiveTags =
    [
        "url.query",
        "client.address",
        "exception.message",
        "db.connection_string",
    ];

    public override void OnEnd(Activity data)
    {
        foreach (var tag in SensitiveTags)
        {
            if (data.GetTagItem(tag) is not null)
            {
                data.SetTag(tag, null);
            }
        }

        if (data.Status == ActivityStatusCode.Error && data.StatusDescription is not null)
        {
            // Keep the fact of the error, drop its text.
            data.SetStatus(ActivityStatusCode.Error);
        }
    }
}
