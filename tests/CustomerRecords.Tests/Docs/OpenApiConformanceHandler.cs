using System.Collections.Concurrent;

namespace CustomerRecords.Tests.Docs;

/// <summary>
/// What the conformance check saw for one suite (an engine's run of the HTTP contract suite): how many
/// exchanges it checked and the violations not yet asserted. The suite asserts after each test that none
/// arose (<see cref="TakeViolations"/>), and the totals are written to <c>openapi-conformance.txt</c> beside
/// the test assembly when the run ends.
/// </summary>
internal sealed class OpenApiTrafficLog
{
    /// <summary>The setting that turns the check on for a <c>CustomerApiFactory</c>'s clients; its value names the suite.</summary>
    public const string SettingKey = "Tests:OpenApiConformance";

    private static readonly ConcurrentDictionary<string, OpenApiTrafficLog> Logs = new(StringComparer.Ordinal);

    private readonly ConcurrentQueue<string> _violations = new();
    private int _checked;
    private int _undocumented;
    private int _violationCount;

    static OpenApiTrafficLog() => AppDomain.CurrentDomain.ProcessExit += (_, _) => WriteSummary();

    private OpenApiTrafficLog(string suite) => Suite = suite;

    public string Suite { get; }

    public int Checked => _checked;

    public static OpenApiTrafficLog For(string suite) => Logs.GetOrAdd(suite, s => new OpenApiTrafficLog(s));

    public void Record(HttpExchange exchange, IReadOnlyList<string> violations, bool documented)
    {
        Interlocked.Increment(ref _checked);
        if (!documented)
        {
            Interlocked.Increment(ref _undocumented);
        }

        foreach (var violation in violations)
        {
            Interlocked.Increment(ref _violationCount);
            _violations.Enqueue($"{exchange}: {violation}");
        }
    }

    public void RecordFailure(string what)
    {
        Interlocked.Increment(ref _violationCount);
        _violations.Enqueue(what);
    }

    /// <summary>The violations recorded since the last call.</summary>
    public IReadOnlyList<string> TakeViolations()
    {
        var taken = new List<string>();
        while (_violations.TryDequeue(out var violation))
        {
            taken.Add(violation);
        }

        return taken;
    }

    private static void WriteSummary()
    {
        if (Logs.IsEmpty)
        {
            return;
        }

        var lines = Logs.Values.OrderBy(l => l.Suite, StringComparer.Ordinal)
            .Select(l => $"{l.Suite}: {l._checked} responses checked against /openapi/v1.json ({l._undocumented} to undocumented routes), {l._violationCount} violations");
        try
        {
            File.WriteAllLines(Path.Combine(AppContext.BaseDirectory, "openapi-conformance.txt"), lines);
        }
        catch (IOException)
        {
            // A summary only; the assertions already ran.
        }
    }
}

/// <summary>
/// Checks every exchange of the client it sits in against the OpenAPI document the service itself serves
/// (fetched once per client, through the same server): the request (parameters, headers, body) and the
/// response (status, headers, media type, body schema). It never changes what the test sees: bodies are
/// buffered and left readable.
/// </summary>
internal sealed class OpenApiConformanceHandler(OpenApiTrafficLog log) : DelegatingHandler
{
    private readonly SemaphoreSlim _load = new(1, 1);
    private OpenApiContract? _contract;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[]? requestBody = null;
        if (request.Content is not null)
        {
            await request.Content.LoadIntoBufferAsync(cancellationToken);
            requestBody = await request.Content.ReadAsByteArrayAsync(cancellationToken);
        }

        var requestHeaders = OpenApiContract.Flatten(request.Headers, request.Content?.Headers);
        var response = await base.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var responseBody = await response.Content.ReadAsByteArrayAsync(cancellationToken);

        var uri = request.RequestUri!;
        var exchange = new HttpExchange(
            request.Method.Method,
            uri.AbsolutePath,
            uri.Query,
            requestHeaders,
            request.Content?.Headers.ContentType?.MediaType,
            requestBody,
            (int)response.StatusCode,
            OpenApiContract.Flatten(response.Headers, response.Content.Headers),
            response.Content.Headers.ContentType?.MediaType,
            responseBody);
        try
        {
            var contract = await ContractAsync(uri, cancellationToken);
            log.Record(exchange, contract.Check(exchange), contract.OperationOf(exchange.Method, exchange.Path) is not null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.RecordFailure($"{exchange}: could not be checked: {e.GetType().Name}: {e.Message}");
        }

        return response;
    }

    private async Task<OpenApiContract> ContractAsync(Uri requestUri, CancellationToken cancellationToken)
    {
        if (_contract is { } loaded)
        {
            return loaded;
        }

        await _load.WaitAsync(cancellationToken);
        try
        {
            if (_contract is null)
            {
                using var get = new HttpRequestMessage(HttpMethod.Get, new Uri(requestUri, "/openapi/v1.json"));
                using var served = await base.SendAsync(get, cancellationToken);
                served.EnsureSuccessStatusCode();
                _contract = OpenApiContract.Parse(await served.Content.ReadAsStringAsync(cancellationToken));
            }

            return _contract;
        }
        finally
        {
            _load.Release();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _load.Dispose();
        }

        base.Dispose(disposing);
    }
}
