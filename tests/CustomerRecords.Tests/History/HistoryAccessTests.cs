using System.Net;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Infrastructure;
using CustomerRecords.Api.History;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.History;

/// <summary>The history routes on the real app with API keys configured: a read-only key reads them, no key gets 401.</summary>
public sealed class HistoryAccessTests : IAsyncLifetime
{
    private readonly string _readerKey = ApiKeyHash.GenerateKey();
    private CustomerApiFactory _factory = null!;
    private HttpClient _client = null!;
    private int _id;

    public async Task InitializeAsync()
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings.AddApiKey("reporting", _readerKey, Scopes.Read);
        _factory = new CustomerApiFactory(settings);
        _client = _factory.CreateClient();
        _id = EventRows.UnusedCustomerId();
        await EventRows.InsertEventAsync(_factory, _id, "created", 1);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    public static TheoryData<string> Paths => ["/customers/{id}/history", "/customers/{id}/export", "/changes"];

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task AReadOnlyKeyReadsIt(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path.Replace("{id}", _id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        request.Headers.Add("X-Api-Key", _readerKey);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(request)).StatusCode);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task NoKeyIsUnauthorized(string path)
    {
        var response = await _client.GetAsync(path.Replace("{id}", _id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>The <c>History</c> settings refuse a non-positive time span at start-up, naming the setting.</summary>
public sealed class HistoryOptionsTests
{
    [Theory]
    [InlineData("History:Retention", "00:00:00")]
    [InlineData("History:Retention", "-1.00:00:00")]
    [InlineData("History:PurgeInterval", "00:00:00")]
    [InlineData("History:PurgeInterval", "-00:10:00")]
    [InlineData("History:SequenceInterval", "00:00:00")]
    [InlineData("History:SequenceInterval", "-00:00:01")]
    public void ANonPositiveIntervalStopsStartUp(string setting, string value)
    {
        // The feature's own registration (validated on start), resolved without starting a host: a host start races
        // the command line's own handling of a failed start, which reports the same refusal in other words.
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [setting] = value });
        builder.AddHistory();
        using var services = builder.Services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<HistoryOptions>>().Value);
        Assert.Contains(setting, string.Join(" ", error.Failures), StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Flatten(Exception error)
    {
        yield return error;
        var inner = error is AggregateException aggregate ? aggregate.InnerExceptions : error.InnerException is { } one ? [one] : [];
        foreach (var exception in inner.SelectMany(Flatten))
        {
            yield return exception;
        }
    }

    [Fact]
    public async Task UnsetRetentionKeepsEventsForeverAndTheIntervalsHaveDefaults()
    {
        await using var factory = CustomerApiFactory.ForSqlite();
        var options = ((IServiceProvider)factory.Services).GetService(typeof(IOptions<Api.History.HistoryOptions>)) as IOptions<Api.History.HistoryOptions>;
        Assert.Null(options!.Value.Retention);
        Assert.Equal(TimeSpan.FromHours(1), options.Value.PurgeInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Value.SequenceInterval);
    }
}
