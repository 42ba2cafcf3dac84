using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Customers;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// A generated corpus of hostile requests — bad bytes, bad types, bad sizes, bad ids, bad cursors, bad
/// headers — against every route of both surfaces. None may answer 5xx, leak internals in a body or log an
/// error, and the service must be healthy afterwards. Each engine runs the same corpus through a subclass.
/// </summary>
public abstract class HostileInputTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>A valid body for every write route (the original update reads only the email).</summary>
    private const string BaseBody = "{\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\",\"phone\":\"+1 555 0100\"}";

    private static readonly string[] Fields = ["name", "email", "phone"];

    /// <summary>Text that must never reach a client: exception details, SQL, source paths, connection strings.</summary>
    private static readonly string[] Leaks =
    [
        "Exception", "   at ", "SELECT", "INSERT INTO", "UPDATE customers", "/work", "/src/", ".cs:line",
        "Server=", "User ID=", "Password=", "Data Source=",
    ];

    /// <summary>Byte sequences that are not UTF-8: a stray byte, a lone continuation, a truncated lead, an encoded
    /// surrogate (CESU-8), an overlong '/', a code point past U+10FFFF, a truncated 4-byte emoji.</summary>
    private static readonly byte[][] BadUtf8 =
    [
        [0xFF], [0x80], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98],
    ];

    /// <summary>Escaped UTF-16 that is not text: lone high, lone low, reversed pair, two highs, a high at the end.</summary>
    private static readonly string[] BadEscapes = ["\\ud800", "\\udfff", "\\ud800A", "\\udc00\\ud800", "\\ud800\\ud800", "x\\ud83e"];

    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Message)> _logs = new();
    private readonly List<string> _failures = [];
    private readonly SortedDictionary<int, int> _statuses = [];
    private readonly SortedDictionary<string, int> _categories = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _serverErrors = new(StringComparer.Ordinal);
    private CustomerApiFactory _factory = null!;
    private WebApplicationFactory<Program> _app = null!;
    private HttpClient _client = null!;
    private int _sent;
    private int _emails;

    /// <summary>The engine's name, for the summary.</summary>
    protected abstract string Engine { get; }

    /// <summary>Settings pointing at a brand-new, empty database of the engine under test.</summary>
    protected abstract Task<Dictionary<string, string?>> NewDatabaseSettingsAsync();

    public virtual async Task InitializeAsync()
    {
        var settings = await NewDatabaseSettingsAsync();

        // A thousand requests from one client in a minute is the point here, not abuse to throttle.
        settings["RateLimit:Enabled"] = "false";
        _factory = new CustomerApiFactory(settings);
        _app = _factory.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
            services.AddLogging(logging => logging.AddProvider(new CapturingLoggerProvider(_logs)))));
        _client = _app.CreateClient();
    }

    public virtual async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _factory.DisposeAsync();
    }

    /// <summary>What a probe must answer, beyond "not 5xx and no leak".</summary>
    private enum Expect
    {
        /// <summary>Any answer below 500.</summary>
        Below500,

        /// <summary>A 4xx: the input is bad.</summary>
        ClientError,

        /// <summary>Exactly 400 with the surface's error shape (problem with field errors, or <c>{"error": ...}</c>).</summary>
        BadRequest,
    }

    private sealed record Probe(string Category, HttpMethod Method, string Path, byte[]? Body, Expect Expect)
    {
        public string? ContentType { get; init; } = "application/json";

        public IReadOnlyList<KeyValuePair<string, string[]>> Headers { get; init; } = [];

        public bool Chunked { get; init; }
    }

    /// <summary>A write route: method, path, and whether it is an original route (whose update reads only the email).</summary>
    private sealed record WriteRoute(HttpMethod Method, string Path, bool Original, bool EmailOnly);

    [Fact]
    public async Task NoHostileInputAnswers5xxLeaksOrHurtsTheService()
    {
        var watch = Stopwatch.StartNew();
        var id = await CreateAsync();
        var victim = await CreateAsync();
        var writes = new WriteRoute[]
        {
            new(HttpMethod.Post, "/customers", false, false),
            new(HttpMethod.Put, $"/customers/{id}", false, false),
            new(HttpMethod.Patch, $"/customers/{id}", false, false),
            new(HttpMethod.Post, "/create", true, false),
            new(HttpMethod.Put, $"/update/{id}", true, true),
        };

        var probes = new List<Probe>();
        probes.AddRange(InvalidUtf8AtEveryPosition(writes));
        probes.AddRange(BadBytesInEveryString(writes));
        probes.AddRange(LoneSurrogateEscapes(writes));
        probes.AddRange(ControlCharacters(writes));
        probes.AddRange(WrongTypes(writes));
        probes.AddRange(DeepNesting(writes));
        probes.AddRange(HugeValues(writes));
        probes.AddRange(MalformedDocuments(writes));
        probes.AddRange(BadIds());
        probes.AddRange(BadListQueries(await RealCursorsAsync(), _app.Services.GetRequiredService<CursorProtector>().Seal));
        probes.AddRange(BadHeaders(id, victim));
        probes.AddRange(BadLifecycleRequests(id, _app.Services.GetRequiredService<CursorProtector>().Seal));

        foreach (var probe in probes)
        {
            await SendAsync(probe);
        }

        watch.Stop();
        output.WriteLine($"{Engine}: {_sent} hostile requests in {watch.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("  by status: " + string.Join(", ", _statuses.Select(s => $"{s.Key}: {s.Value}")));
        output.WriteLine("  by category: " + string.Join(", ", _categories.Select(c => $"{c.Key}: {c.Value}")));
        var errors = _logs.Where(l => l.Level >= LogLevel.Error).ToList();
        output.WriteLine($"  log entries at warning: {_logs.Count(l => l.Level == LogLevel.Warning)}, at error or above: {errors.Count}");
        if (_serverErrors.Count > 0)
        {
            output.WriteLine("  5xx by category: " + string.Join(", ", _serverErrors.Select(c => $"{c.Key}: {c.Value}")));
        }

        foreach (var log in _logs.DistinctBy(l => (l.Level, l.Category)))
        {
            output.WriteLine($"  log {log.Level} {log.Category}: {Shorten(log.Message)}");
        }

        // Every failure that is not a 5xx (those are counted above), then a few 5xx of each category.
        foreach (var failure in _failures.Where(f => !f.EndsWith("-> 500", StringComparison.Ordinal)).Take(60)
            .Concat(_failures.Where(f => f.EndsWith("-> 500", StringComparison.Ordinal)).DistinctBy(f => f[..f.IndexOf(']', StringComparison.Ordinal)]).Take(40)))
        {
            output.WriteLine("  FAIL " + failure);
        }

        // Afterwards the service still serves: ready, and a normal create and read work on both surfaces.
        await AssertHealthyAsync();

        Assert.True(_sent >= 1000, $"The corpus should hold at least 1,000 requests; it held {_sent}.");
        Assert.True(_failures.Count == 0, $"{_failures.Count} of {_sent} requests failed; first: {string.Join(" | ", _failures.Take(5))}");
        Assert.True(errors.Count == 0, $"{errors.Count} error logs; first: {string.Join(" | ", errors.Take(3).Select(e => $"{e.Category}: {e.Message}"))}");
        Assert.DoesNotContain(_logs, l => l.Message.Contains("Ada Lovelace", StringComparison.Ordinal) || l.Message.Contains("ada@example.com", StringComparison.Ordinal));
    }

    private static IEnumerable<Probe> InvalidUtf8AtEveryPosition(WriteRoute[] writes)
    {
        var body = Encoding.UTF8.GetBytes(BaseBody);
        foreach (var route in writes)
        {
            for (var i = 0; i <= body.Length; i++)
            {
                if (i < body.Length)
                {
                    var replaced = (byte[])body.Clone();
                    replaced[i] = 0xFF;
                    yield return Write("utf8-replace", route, replaced, Expect.BadRequest);
                }

                // A truncated two-byte lead before byte i (at the end: trailing bad bytes).
                yield return Write("utf8-insert", route, [.. body.AsSpan(0, i), 0xC3, .. body.AsSpan(i)], Expect.BadRequest);
            }
        }
    }

    private static IEnumerable<Probe> BadBytesInEveryString(WriteRoute[] writes)
    {
        // Inside each property name and each value, plus an unknown field's name and value (the original routes skip unknown fields).
        var body = Encoding.UTF8.GetBytes(BaseBody);
        var insideStrings = new List<int>();
        var inString = false;
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] == '"')
            {
                if (!inString)
                {
                    insideStrings.Add(i + 3); // two characters into the string
                }

                inString = !inString;
            }
        }

        foreach (var route in writes)
        {
            foreach (var bad in BadUtf8)
            {
                foreach (var at in insideStrings)
                {
                    yield return Write("utf8-in-string", route, [.. body.AsSpan(0, at), .. bad, .. body.AsSpan(at)], Expect.BadRequest);
                }

                var unknownName = (byte[])[.. "{\"x"u8, .. bad, .. "\":1,"u8, .. body.AsSpan(1)];
                var unknownValue = (byte[])[.. "{\"extra\":\"x"u8, .. bad, .. "\","u8, .. body.AsSpan(1)];
                yield return Write("utf8-unknown-field", route, unknownName, Expect.BadRequest);
                yield return Write("utf8-unknown-field", route, unknownValue, Expect.BadRequest);
            }
        }
    }

    private static IEnumerable<Probe> LoneSurrogateEscapes(WriteRoute[] writes)
    {
        foreach (var route in writes)
        {
            foreach (var escape in BadEscapes)
            {
                foreach (var field in Fields)
                {
                    var value = BaseBody.Replace($"\"{field}\":\"", $"\"{field}\":\"{escape}", StringComparison.Ordinal);
                    yield return Write("surrogate-value", route, value, Expect.BadRequest);
                    var name = BaseBody.Replace($"\"{field}\":", $"\"{field}{escape}\":", StringComparison.Ordinal);
                    yield return Write("surrogate-name", route, name, Expect.BadRequest);
                }

                yield return Write("surrogate-unknown", route, $"{{\"{escape}\":1,{BaseBody[1..]}", Expect.BadRequest);
            }
        }
    }

    private IEnumerable<Probe> ControlCharacters(WriteRoute[] writes)
    {
        var controls = Enumerable.Range(0, 0x20).Append(0x7F).Select(c => (char)c).ToArray();
        foreach (var route in writes)
        {
            foreach (var c in controls)
            {
                foreach (var field in Fields)
                {
                    var ignored = route.EmailOnly && field != "email";
                    var escaped = string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    yield return Write("control-escaped", route, Body(field, Middle(field, escaped)), ignored ? Expect.Below500 : Expect.BadRequest);

                    // Raw: invalid JSON below U+0020; U+007F is legal JSON but a control character.
                    yield return Write("control-raw", route, Body(field, Middle(field, c.ToString())), ignored && c == '\x7F' ? Expect.Below500 : Expect.BadRequest);
                }
            }

            // At the edges a control character is trimmed if it is whitespace, refused otherwise: either way not a 5xx.
            yield return Write("control-edge", route, Body("name", "\\u0000Ada"), Expect.Below500);
            yield return Write("control-edge", route, Body("name", "Ada\\t"), Expect.Below500);
        }
    }

    private IEnumerable<Probe> WrongTypes(WriteRoute[] writes)
    {
        string[] values = ["0", "-1.5e300", "1e999", "123456789012345678901234567890", "true", "false", "[]", "[\"x\"]", "{}", "{\"a\":\"b\"}", "null"];
        foreach (var route in writes)
        {
            foreach (var field in Fields)
            {
                foreach (var value in values)
                {
                    yield return Write("wrong-type", route, BodyRaw(field, value), value == "null" ? Expect.Below500 : Expect.BadRequest);
                }
            }
        }
    }

    private static IEnumerable<Probe> DeepNesting(WriteRoute[] writes)
    {
        var arrays = new string('[', 100) + new string(']', 100);
        var objects = string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100);
        var unclosed = new string('[', 30_000);
        foreach (var route in writes)
        {
            foreach (var field in Fields)
            {
                yield return Write("nesting", route, BaseBody.Replace($"\"{field}\":", $"\"{field}\":{arrays},\"_{field}\":", StringComparison.Ordinal), Expect.BadRequest);
            }

            yield return Write("nesting", route, "{\"extra\":" + arrays + "," + BaseBody[1..], Expect.BadRequest);
            yield return Write("nesting", route, "{\"extra\":" + objects + "," + BaseBody[1..], Expect.BadRequest);
            yield return Write("nesting", route, arrays, Expect.BadRequest);
            yield return Write("nesting", route, objects, Expect.BadRequest);
            yield return Write("nesting", route, unclosed, Expect.BadRequest);
        }
    }

    private IEnumerable<Probe> HugeValues(WriteRoute[] writes)
    {
        var megabyte = new string('x', 1024 * 1024);
        var inside = new string('x', 60 * 1024);
        var justOver = new string('x', (64 * 1024) - 40);
        foreach (var route in writes)
        {
            foreach (var field in Fields)
            {
                foreach (var chunked in new[] { false, true })
                {
                    yield return Write("huge-1MB", route, Body(field, megabyte), Expect.ClientError) with { Chunked = chunked };
                }

                // Inside the 64 KiB limit but far over the field's limit (ignored by the original update unless it is the email).
                yield return Write("huge-60KiB", route, Body(field, inside), route.EmailOnly && field != "email" ? Expect.Below500 : Expect.BadRequest);
                yield return Write("huge-over-64KiB", route, Body(field, justOver), Expect.ClientError);
            }

            yield return Write("huge-1MB", route, "{\"" + megabyte + "\":1}", Expect.ClientError);
            yield return Write("huge-60KiB", route, "{\"" + inside + "\":1," + BaseBody[1..], route.Original ? Expect.Below500 : Expect.BadRequest);
        }
    }

    private IEnumerable<Probe> MalformedDocuments(WriteRoute[] writes)
    {
        var documents = new (string Body, Expect Expect)[]
        {
            ("{\"name\":\"A\",\"name\":\"B\",\"email\":\"dup@example.com\"}", Expect.BadRequest),
            ("{\"email\":\"a@example.com\",\"email\":\"b@example.com\",\"name\":\"A\"}", Expect.BadRequest),
            ("{\"phone\":\"1\",\"phone\":null,\"name\":\"A\",\"email\":\"c@example.com\"}", Expect.BadRequest),
            ("{\"Name\":\"A\",\"name\":\"B\",\"email\":\"d@example.com\"}", Expect.Below500),
            (BaseBody + " x", Expect.BadRequest),
            (BaseBody + "}", Expect.BadRequest),
            (BaseBody + ",", Expect.BadRequest),
            (BaseBody + " {}", Expect.BadRequest),
            (BaseBody + BaseBody, Expect.BadRequest),
            (BaseBody + "\0", Expect.BadRequest),
            (BaseBody[..^1], Expect.BadRequest),
            (BaseBody[..20], Expect.BadRequest),
            ("\uFEFF" + BaseBody, Expect.Below500),
            (string.Empty, Expect.BadRequest),
            ("   ", Expect.BadRequest),
            ("\0", Expect.BadRequest),
            ("null", Expect.BadRequest),
            ("[]", Expect.BadRequest),
            ("\"text\"", Expect.BadRequest),
            ("42", Expect.BadRequest),
            ("true", Expect.BadRequest),
            ("{", Expect.BadRequest),
            ("}", Expect.BadRequest),
            ("{\"name\":}", Expect.BadRequest),
            ("{\"name\" \"A\"}", Expect.BadRequest),
            ("{name:\"A\",email:\"e@example.com\"}", Expect.BadRequest),
            ("{'name':'A','email':'f@example.com'}", Expect.BadRequest),
            ("{\"name\":\"A\",\"email\":\"g@example.com\",}", Expect.BadRequest),
            ("{/* c */\"name\":\"A\",\"email\":\"h@example.com\"}", Expect.BadRequest),
            ("{\"name\":NaN,\"email\":\"i@example.com\"}", Expect.BadRequest),
            ("{\"name\":\"\\x41\",\"email\":\"j@example.com\"}", Expect.BadRequest),
            ("{\"name\":\"\\u12\",\"email\":\"k@example.com\"}", Expect.BadRequest),
            ("{\"name\":\"A\\\",\"email\":\"l@example.com\"}", Expect.BadRequest),
        };
        foreach (var route in writes)
        {
            foreach (var (body, expect) in documents)
            {
                yield return Write("malformed", route, body, expect);
            }

            // Media types: missing, wrong, another charset, parameters the parser must survive.
            foreach (var type in new string?[] { null, "text/plain", "application/json; charset=utf-16", "application/json; charset=latin1", "application/jsonx", "*/*", "application/json;;;", "application/json; charset=\"utf-8\"", "application/json; charset=" })
            {
                yield return Write("media-type", route, Body("name", "Ada"), Expect.Below500) with { ContentType = type };
            }
        }
    }

    private IEnumerable<Probe> BadIds()
    {
        string[] ids =
        [
            "0", "-1", "2147483648", "-2147483649", "2147483647", "-2147483648", "abc", "1.5", "%00", "1%00", "%ff", "%ED%A0%80",
            "1e3", "0x10", "%2B99999", "%20", "99999999999999999999999", "..%2F..%2Fetc", "%EF%BC%91", "00000000000000000000001",
        ];
        foreach (var id in ids)
        {
            foreach (var (method, path) in new[] { (HttpMethod.Get, "/customers/"), (HttpMethod.Put, "/customers/"), (HttpMethod.Patch, "/customers/"), (HttpMethod.Delete, "/customers/"), (HttpMethod.Get, "/read/"), (HttpMethod.Put, "/update/"), (HttpMethod.Delete, "/delete/") })
            {
                var body = method == HttpMethod.Put || method == HttpMethod.Patch ? Encoding.UTF8.GetBytes(Body("name", "Ada")) : null;
                yield return new Probe("bad-id", method, path + id, body, Expect.Below500);
            }
        }
    }

    /// <summary>
    /// Bad list parameters. Cursors are sealed by the service (<see cref="CursorProtector"/>), so each crafted cursor
    /// goes twice: as is (the seal check must refuse it) and sealed with the app's own key (the decoder behind it must).
    /// </summary>
    private static IEnumerable<Probe> BadListQueries(IReadOnlyDictionary<string, string> cursors, Func<string, string> seal)
    {
        string[] limits = ["0", "-1", "501", "2147483648", "99999999999999999999", "1.5", "1e2", "abc", "%00", "%205", "5%20", "%EF%BC%95", "-0", "0x10"];
        foreach (var limit in limits)
        {
            yield return List("bad-limit", $"limit={limit}", Expect.ClientError);
        }

        string[] sorts = ["ID", "Name", "name%3Bdrop", "-", "--id", "%2Bid", "%00", "id,name", "name%00", "email", "version"];
        foreach (var sort in sorts)
        {
            yield return List("bad-sort", $"sort={sort}", Expect.ClientError);
        }

        // Empty values: "no value" or a refusal, either is fine.
        foreach (var name in new[] { "limit", "sort", "after", "email", "q" })
        {
            yield return List("empty-parameter", name + "=", Expect.Below500);
        }

        // Random bytes, base64url'd, with every sort (a fixed seed: the same corpus every run).
        var random = new Random(20240611);
        var sortNames = cursors.Keys.ToArray();
        for (var i = 0; i < 150; i++)
        {
            var bytes = new byte[random.Next(0, 48)];
            random.NextBytes(bytes);
            foreach (var probe in Crafted("random-cursor", sortNames[i % sortNames.Length], Base64Url.EncodeToString(bytes), seal))
            {
                yield return probe;
            }
        }

        // Random bytes behind a valid header (format version and sort): the decoder's every branch.
        for (var i = 0; i < 120; i++)
        {
            var sort = i % 6;
            var bytes = new byte[2 + random.Next(0, 24)];
            random.NextBytes(bytes);
            bytes[0] = 1;
            bytes[1] = (byte)(sort + 1);
            foreach (var probe in Crafted("headed-cursor", sortNames[sort], Base64Url.EncodeToString(bytes), seal))
            {
                yield return probe;
            }
        }

        // Real cursors, truncated at every length, extended, and sent with the wrong sort.
        foreach (var (sort, cursor) in cursors)
        {
            // A name cursor cut short or padded can still hold a (different) valid name: a page, not necessarily a refusal.
            var fixedLength = sort.EndsWith("id", StringComparison.Ordinal) || sort.EndsWith("created_at", StringComparison.Ordinal);
            for (var length = 1; length < cursor.Length; length++)
            {
                yield return List("truncated-cursor", $"sort={sort}&after={cursor[..length]}", fixedLength ? Expect.ClientError : Expect.Below500);
            }

            yield return List("extended-cursor", $"sort={sort}&after={cursor}AAAA", fixedLength ? Expect.ClientError : Expect.Below500);
            yield return List("extended-cursor", $"sort={sort}&after={cursor}%00", Expect.ClientError);
            yield return List("wrong-sort-cursor", $"sort={(sort == "id" ? "-id" : "id")}&after={cursor}", Expect.ClientError);
        }

        // Crafted cursors: extreme ids, extreme times, long names, names with NUL, emoji, LIKE wildcards; text that is not base64url.
        var crafted = new List<(string Sort, string Inner)>();
        foreach (var id in new[] { int.MinValue, -1, 0, int.MaxValue })
        {
            crafted.Add(("id", Cursor(1, id, [])));
            crafted.Add(("-name", Cursor(4, id, Encoding.UTF8.GetBytes("zz"))));
        }

        foreach (var ticks in new[] { DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks, -1L, long.MaxValue, new DateTime(1000, 1, 1).Ticks - 1, new DateTime(9999, 12, 31).Ticks })
        {
            var time = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(time, ticks);
            crafted.Add(("created_at", Cursor(5, 1, time)));
            crafted.Add(("-created_at", Cursor(6, int.MaxValue, time)));
        }

        foreach (var name in new[] { new string('z', 1500), new string('\u00e9', 1000), "a\0b", "\0", "🦄", "\u202Eevil", "%", "_", "\\", "'" })
        {
            crafted.Add(("name", Cursor(3, 1, Encoding.UTF8.GetBytes(name))));
        }

        crafted.Add(("name", Cursor(3, 1, [0xFF, 0xFE])));
        crafted.Add(("name", Cursor(3, 1, [0xED, 0xA0, 0x80])));
        crafted.Add(("id", Cursor(9, 1, [])));
        crafted.Add(("id", Cursor(1, 1, [0])));
        foreach (var text in new[] { string.Empty, "!!!!", "====", "A", "AAAAA", "+/+/", new string('A', 2049) })
        {
            crafted.Add(("id", text));
        }

        foreach (var (sort, inner) in crafted)
        {
            foreach (var probe in Crafted("crafted-cursor", sort, inner, seal))
            {
                yield return probe;
            }
        }

        foreach (var after in new[] { "!!!!", "====", "%00", "AAAA%3D%3D", "+/+/", new string('A', 2049), new string('A', 3000), "%ED%A0%80" })
        {
            yield return List("garbage-cursor", $"after={after}", Expect.ClientError);
        }

        string[] emails = ["%00", "a%00%40b.co", new string('a', 300) + "%40example.com", "a%40b", "%E2%80%8Ba%40example.com", "a%E2%80%AE%40example.com", "%40", "a%0A%40example.com"];
        foreach (var email in emails)
        {
            yield return List("bad-email-filter", $"email={email}", Expect.ClientError);
        }

        // Bytes that are not UTF-8 in the query: decoded to something, refused or matched against nothing.
        foreach (var email in new[] { "%ED%A0%80%40x.co", "%FF%40x.co", "%C3%40x.co" })
        {
            yield return List("bad-email-filter", $"email={email}", Expect.Below500);
        }

        string[] prefixes = ["%25", "_", "%5C", "%00", new string('q', 256), new string('q', 255), "%FF", "'", "%27%20OR%201%3D1%20--", "%ED%A0%80", "%E2%80%AE", ""];
        foreach (var q in prefixes)
        {
            yield return List("bad-q", $"q={q}", Expect.Below500);
        }

        yield return List("combined", "limit=abc&sort=bad&after=bad&email=bad&q=", Expect.ClientError);
        yield return List("combined", "limit=1&limit=2", Expect.Below500);
        yield return List("combined", "sort=id&sort=-id", Expect.Below500);
        yield return List("combined", "after=a&after=b", Expect.Below500);
        yield return List("combined", "%00=%00&&&=&limit", Expect.Below500);
    }

    /// <summary>
    /// The lifecycle routes: bad ids on restore, erase, history and export; bad list parameters of the deleted
    /// listing, updated_since and count; bad limits and cursors (raw and sealed) of the history and the feed.
    /// </summary>
    private static IEnumerable<Probe> BadLifecycleRequests(int id, Func<string, string> seal)
    {
        string[] ids = ["0", "-1", "2147483648", "abc", "%00", "%ED%A0%80", "99999999999999999999999", "%EF%BC%91", "987654"];
        foreach (var bad in ids)
        {
            yield return new Probe("lifecycle-bad-id", HttpMethod.Post, $"/customers/{bad}/restore", null, Expect.Below500);
            yield return new Probe("lifecycle-bad-id", HttpMethod.Post, $"/customers/{bad}/erase", null, Expect.Below500);
            yield return new Probe("lifecycle-bad-id", HttpMethod.Get, $"/customers/{bad}/history", null, Expect.Below500);
            yield return new Probe("lifecycle-bad-id", HttpMethod.Get, $"/customers/{bad}/export", null, Expect.Below500);
        }

        string[] values = ["", "%00", "x", "-1", "0", "2147483648", "1e3", "%EF%BC%95", new string('9', 5000), "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T00:00:60Z", "2026-12-01T00:00:00", "2026-12-01T00:00:00+25:00",
            "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z", "2026-12-01 00:00:00Z", "2026-12-01T00:00:00Z%0A", "%D9%A2%D9%A0%D9%A2%D9%A6-12-01T00:00:00Z"];
        foreach (var value in values)
        {
            yield return List("lifecycle-updated-since", $"updated_since={value}", Expect.Below500);
            yield return List("lifecycle-state", $"state={value}", Expect.Below500);
            yield return List("lifecycle-count", $"count={value}", Expect.Below500);
            yield return new Probe("lifecycle-history-limit", HttpMethod.Get, $"/customers/{id}/history?limit={value}", null, Expect.Below500);
            yield return new Probe("lifecycle-feed-limit", HttpMethod.Get, $"/changes?limit={value}", null, Expect.Below500);
        }

        yield return List("lifecycle-combined", "state=deleted&sort=name", Expect.ClientError);
        yield return List("lifecycle-combined", "updated_since=2026-12-01T00:00:00Z&sort=-id", Expect.ClientError);
        yield return List("lifecycle-combined", "updated_since=2026-12-01T00:00:00Z&state=deleted", Expect.ClientError);
        yield return List("lifecycle-combined", "state=deleted&count=estimated&q=a", Expect.Below500);

        string[] cursors = ["", "a", "%00", "AAAA", new string('A', 5000), "f:1", "h:1:1", "f:-1", "f:99999999999999999999", "h:abc:1"];
        foreach (var cursor in cursors)
        {
            foreach (var after in new[] { Uri.EscapeDataString(cursor), cursor.Length > 0 ? seal(cursor) : string.Empty })
            {
                yield return new Probe("lifecycle-cursor", HttpMethod.Get, $"/customers/{id}/history?after={after}", null, Expect.Below500);
                yield return new Probe("lifecycle-cursor", HttpMethod.Get, $"/changes?after={after}", null, Expect.Below500);
                yield return List("lifecycle-cursor", $"state=deleted&after={after}", Expect.Below500);
                yield return List("lifecycle-cursor", $"sort=updated_at&updated_since=2026-01-01T00:00:00Z&after={after}", Expect.Below500);
            }
        }
    }

    private IEnumerable<Probe> BadHeaders(int id, int victim)
    {
        var routes = new (HttpMethod Method, string Path, bool Body)[]
        {
            (HttpMethod.Get, "/customers", false),
            (HttpMethod.Post, "/customers", true),
            (HttpMethod.Get, $"/customers/{id}", false),
            (HttpMethod.Put, $"/customers/{id}", true),
            (HttpMethod.Patch, $"/customers/{id}", true),
            (HttpMethod.Delete, $"/customers/{victim}", false),
            (HttpMethod.Post, "/create", true),
            (HttpMethod.Get, $"/read/{id}", false),
            (HttpMethod.Put, $"/update/{id}", true),
            (HttpMethod.Get, "/customers/987654", false),
            (HttpMethod.Delete, "/customers/987654", false),
        };
        string[] entityTags =
        [
            "garbage", "\"abc\"", "W/\"1\"", "\"1\", \"2\", \"x\"", "\"99999999999\"", "\"-1\"", "\"\"", "\"1", "1", "\"0\"",
            string.Join(",", Enumerable.Repeat("\"1\"", 2000)), "\t", "\"\u00e9\"", "W/", ",,,", "*, \"1\"",
        ];
        string[] keys = [string.Empty, " ", new string('k', 256), "a b", "\u00e9", "\t", "k\u007f", new string('k', 100_000)];
        var n = 0;
        foreach (var (method, path, hasBody) in routes)
        {
            foreach (var tag in entityTags)
            {
                foreach (var header in new[] { "If-Match", "If-None-Match" })
                {
                    var body = hasBody ? Encoding.UTF8.GetBytes(Body("name", "Header " + n++)) : null;
                    yield return new Probe("bad-" + header.ToLowerInvariant(), method, path, body, Expect.Below500) { Headers = [new(header, [tag])] };
                }
            }

            foreach (var key in keys)
            {
                var body = hasBody ? Encoding.UTF8.GetBytes(Body("name", "Key " + n++)) : null;
                yield return new Probe("bad-idempotency-key", method, path, body, Expect.Below500) { Headers = [new("Idempotency-Key", [key])] };
            }

            var twice = hasBody ? Encoding.UTF8.GetBytes(Body("name", "Twice " + n++)) : null;
            yield return new Probe("bad-idempotency-key", method, path, twice, Expect.Below500) { Headers = [new("Idempotency-Key", ["one", "two"])] };
        }

        // One key, two different bodies: the second is refused, never a 5xx.
        foreach (var path in new[] { "/customers", "/create" })
        {
            var key = "reused-" + path.Trim('/');
            yield return new Probe("reused-idempotency-key", HttpMethod.Post, path, Encoding.UTF8.GetBytes(Body("name", "First")), Expect.Below500) { Headers = [new("Idempotency-Key", [key])] };
            yield return new Probe("reused-idempotency-key", HttpMethod.Post, path, Encoding.UTF8.GetBytes(Body("name", "Second")), Expect.ClientError) { Headers = [new("Idempotency-Key", [key])] };
        }
    }

    private static Probe Write(string category, WriteRoute route, string body, Expect expect) =>
        Write(category, route, Encoding.UTF8.GetBytes(body), expect);

    private static Probe Write(string category, WriteRoute route, byte[] body, Expect expect) =>
        new($"{category}{(route.Original ? "/orig" : string.Empty)}", route.Method, route.Path, body, expect);

    /// <summary>A cursor as is, which the seal check must refuse, and sealed with the app's key, which reaches the decoder.</summary>
    private static IEnumerable<Probe> Crafted(string category, string sort, string inner, Func<string, string> seal)
    {
        if (inner.Length > 0)
        {
            yield return List(category, $"sort={sort}&after={Uri.EscapeDataString(inner)}", Expect.ClientError);
        }

        yield return List(category + "/sealed", $"sort={sort}&after={seal(inner)}", Expect.Below500);
    }

    private static Probe List(string category, string query, Expect expect) =>
        new(category, HttpMethod.Get, "/customers?" + query, null, expect);

    private static string Cursor(byte sort, int id, byte[] tail)
    {
        var bytes = new byte[6 + tail.Length];
        bytes[0] = 1;
        bytes[1] = sort;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(2), id);
        tail.CopyTo(bytes, 6);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary><paramref name="text"/> in the middle of a valid value for <paramref name="field"/>.</summary>
    private static string Middle(string field, string text) => field switch
    {
        "name" => $"Ada{text}Lovelace",
        "email" => $"ada{text}x@example.com",
        _ => $"+1 555{text}0100",
    };

    /// <summary>A valid body with a fresh email, <paramref name="field"/> set to the JSON string content <paramref name="value"/>.</summary>
    private string Body(string field, string value) => BodyRaw(field, $"\"{value}\"");

    /// <summary>A valid body with a fresh email, <paramref name="field"/> set to the JSON text <paramref name="json"/>.</summary>
    private string BodyRaw(string field, string json)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["name"] = "\"Hostile Input\"",
            ["email"] = $"\"hostile{Interlocked.Increment(ref _emails)}@example.com\"",
            ["phone"] = "\"+1 555 0100\"",
        };
        fields[field] = json;
        return "{" + string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}";
    }

    private async Task SendAsync(Probe probe)
    {
        var (status, text, mediaType) = probe.Path.Contains("%00", StringComparison.Ordinal)
            ? await SendDecodedAsync(probe)
            : await SendOverClientAsync(probe);
        _sent++;
        _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
        _categories[probe.Category] = _categories.GetValueOrDefault(probe.Category) + 1;

        var where = $"[{probe.Category}] {probe.Method} {Shorten(probe.Path)} {Shorten(probe.Body is null ? string.Empty : Encoding.UTF8.GetString(probe.Body))}";
        if (status >= 500)
        {
            _failures.Add($"{where} -> {status}");
            _serverErrors[probe.Category] = _serverErrors.GetValueOrDefault(probe.Category) + 1;
        }

        foreach (var leak in Leaks)
        {
            if (text.Contains(leak, StringComparison.Ordinal))
            {
                _failures.Add($"{where} -> {status} body leaks '{leak}'");
            }
        }

        switch (status >= 500 ? Expect.Below500 : probe.Expect)
        {
            case Expect.ClientError when status is < 400:
                _failures.Add($"{where} -> {status}, expected a 4xx");
                break;
            case Expect.BadRequest when status != 400:
                _failures.Add($"{where} -> {status}, expected 400");
                break;
            case Expect.BadRequest when !HasErrorShape(probe, mediaType, text):
                _failures.Add($"{where} -> 400 without the surface's error shape: {Shorten(text)}");
                break;
        }
    }

    private async Task<(int Status, string Text, string? MediaType)> SendOverClientAsync(Probe probe)
    {
        using var request = new HttpRequestMessage(probe.Method, probe.Path);
        if (probe.Body is not null)
        {
            HttpContent content = probe.Chunked
                ? new StreamContent(new MemoryStream(probe.Body))
                : new ByteArrayContent(probe.Body);
            if (probe.ContentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", probe.ContentType);
            }

            if (probe.Chunked)
            {
                request.Headers.TransferEncodingChunked = true;
            }

            request.Content = content;
        }

        foreach (var (name, values) in probe.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, values);
        }

        using var response = await _client.SendAsync(request);
        var text = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
        return ((int)response.StatusCode, text, response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// A path with an encoded NUL, handed to the app already decoded: the test host's client refuses to decode it
    /// (Kestrel answers such a request line 400 itself), so this is what the app would see if a proxy passed it on.
    /// </summary>
    private async Task<(int Status, string Text, string? MediaType)> SendDecodedAsync(Probe probe)
    {
        var query = probe.Path.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? probe.Path : probe.Path[..query];
        var context = await _app.Server.SendAsync(http =>
        {
            http.Request.Method = probe.Method.Method;
            http.Request.Path = new Microsoft.AspNetCore.Http.PathString(Uri.UnescapeDataString(path));
            if (query >= 0)
            {
                http.Request.QueryString = new Microsoft.AspNetCore.Http.QueryString(probe.Path[query..]);
            }

            foreach (var (name, values) in probe.Headers)
            {
                http.Request.Headers[name] = values;
            }

            if (probe.Body is not null)
            {
                http.Request.ContentType = probe.ContentType;
                http.Request.ContentLength = probe.Body.Length;
                http.Request.Body = new MemoryStream(probe.Body);
            }
        });
        using var reader = new StreamReader(context.Response.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var mediaType = context.Response.ContentType is { } type && MediaTypeHeaderValue.TryParse(type, out var parsed) ? parsed.MediaType : null;
        return (context.Response.StatusCode, text, mediaType);
    }

    /// <summary>/customers answers a validation problem naming a field (or "$"); the original routes answer <c>{"error": "..."}</c>.</summary>
    private static bool HasErrorShape(Probe probe, string? mediaType, string text)
    {
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }

        if (probe.Category.EndsWith("/orig", StringComparison.Ordinal))
        {
            return json?["error"] is JsonValue error && !string.IsNullOrWhiteSpace((string?)error);
        }

        // Bad bytes and bad characters are field errors ("$" when the field is unknown); an empty body is a plain bad request.
        var fieldError = probe.Category.StartsWith("utf8", StringComparison.Ordinal)
            || probe.Category.StartsWith("surrogate", StringComparison.Ordinal)
            || probe.Category.StartsWith("control", StringComparison.Ordinal);
        return mediaType == "application/problem+json"
            && (int?)json?["status"] == 400
            && (!fieldError || json?["errors"] is JsonObject { Count: > 0 });
    }

    private static string Shorten(string text)
    {
        var clean = new string([.. text.Take(90).Select(c => char.IsControl(c) ? '·' : c)]);
        return text.Length > 90 ? clean + $"…({text.Length})" : clean;
    }

    private async Task<int> CreateAsync()
    {
        var response = await _client.PostAsync("/customers", Json.Body(Body("name", "Seed")));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (int)(await response.ReadObjectAsync())["id"]!;
    }

    /// <summary>A real <c>next</c> cursor for every sort order.</summary>
    private async Task<IReadOnlyDictionary<string, string>> RealCursorsAsync()
    {
        var cursors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var sort in new[] { "id", "-id", "name", "-name", "created_at", "-created_at" })
        {
            var page = await (await _client.GetAsync($"/customers?limit=1&sort={sort}")).ReadObjectAsync();
            cursors[sort] = (string)page["next"]!;
        }

        return cursors;
    }

    private async Task AssertHealthyAsync()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/ready")).StatusCode);
        var email = Json.UniqueEmail("after-corpus");
        var created = await _client.PostAsync("/customers", Json.Body(new { name = "After The Corpus", email, phone = "+1 555 0199" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (int)(await created.ReadObjectAsync())["id"]!;
        var read = await (await _client.GetAsync($"/customers/{id}")).ReadObjectAsync();
        Assert.Equal(email, (string?)read["email"]);
        var original = await _client.GetAsync($"/read/{id}");
        Assert.Equal(HttpStatusCode.OK, original.StatusCode);
        var orig = await _client.PostAsync("/create", Json.Body(new { name = "Original After", email = Json.UniqueEmail("after-orig") }));
        Assert.Equal(HttpStatusCode.Created, orig.StatusCode);
    }

    /// <summary>Keeps every log entry at warning or above, to check that hostile input logs no error and no value.</summary>
    private sealed class CapturingLoggerProvider(ConcurrentQueue<(LogLevel Level, string Category, string Message)> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, logs);

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(string category, ConcurrentQueue<(LogLevel Level, string Category, string Message)> logs) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    logs.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? string.Empty : " " + exception)));
                }
            }
        }
    }
}

/// <summary>The hostile-input corpus over the embedded default: a SQLite file of its own.</summary>
public sealed class SqliteHostileInputTests(ITestOutputHelper output) : HostileInputTests(output)
{
    private readonly TempDirectory _directory = new();

    protected override string Engine => "SQLite";

    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() =>
        Task.FromResult(CustomerApiFactory.SqliteSettings(_directory.Path));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}

/// <summary>The hostile-input corpus over a real MariaDB server: a fresh database of its own.</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbHostileInputTests(MariaDbFixture mariaDb, ITestOutputHelper output) : HostileInputTests(output)
{
    protected override string Engine => "MariaDB";

    protected override async Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() =>
        CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync());
}
