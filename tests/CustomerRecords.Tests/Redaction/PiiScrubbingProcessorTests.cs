using System.Diagnostics;
using CustomerRecords.Api.Redaction;

namespace CustomerRecords.Tests.Redaction;

public class PiiScrubbingProcessorTests
{
    [Fact]
    public void SpanKeepsTheErrorButLosesTextsThatQuoteCustomerData()
    {
        using var activity = new Activity("MySqlConnector.Execute");
        activity.SetTag("url.query", "?email=jane.doe@example.com&phone=15550102000");
        activity.SetTag("exception.message", "Duplicate entry 'jane.doe@example.com' for key 'customers.email'");
        activity.SetTag("db.system", "mysql");
        activity.SetStatus(ActivityStatusCode.Error, "Duplicate entry 'jane.doe@example.com' for key 'customers.email'");

        using var processor = new PiiScrubbingProcessor();
        processor.OnEnd(activity);

        Assert.Null(activity.GetTagItem("url.query"));
        Assert.Null(activity.GetTagItem("exception.message"));
        Assert.Equal("mysql", activity.GetTagItem("db.system"));
        Assert.Equal(ActivityStatusCode.Error, activity.Status);
        Assert.Null(activity.StatusDescription);
    }
}
