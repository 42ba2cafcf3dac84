using CustomerRecords.Api.Bulk;
using Spectre.Console;

namespace CustomerRecords.Tests.Bulk;

/// <summary>
/// The progress of a bulk run on standard error: plain lines off a terminal (rows, rate, percentage, ETA, on a fake
/// clock), a Spectre.Console bar on one, and the summary last in both.
/// </summary>
public sealed class BulkProgressTests
{
    [Fact]
    public void PlainLinesComeOnePerIntervalWithRowsRatePercentageAndEta()
    {
        var clock = new ManualClock();
        var error = new StringWriter();
        var progress = BulkProgress.For(error, terminal: false, "export", total: 1000, clock, TimeSpan.FromSeconds(5));

        clock.Advance(TimeSpan.FromSeconds(1));
        progress.Report(100, 100);
        Assert.Equal("", error.ToString());

        clock.Advance(TimeSpan.FromSeconds(4));
        progress.Report(250, 250);
        clock.Advance(TimeSpan.FromSeconds(1));
        progress.Report(300, 300); // within the interval of the last line: nothing
        progress.Complete("export: 1,000 rows");

        Assert.Equal(["export: 250 rows, 50 rows/s, 25%, ETA 00:00:15", "export: 1,000 rows"], Lines(error));
    }

    [Fact]
    public void WithoutATotalThereIsNoPercentageNorEta()
    {
        var clock = new ManualClock();
        var error = new StringWriter();
        var progress = BulkProgress.Plain(error, "import", total: null, clock, TimeSpan.FromSeconds(5));

        clock.Advance(TimeSpan.FromSeconds(10));
        progress.Report(12_345);

        Assert.Equal(["import: 12,345 rows, 1,234 rows/s"], Lines(error));
    }

    [Fact]
    public void PositionInBytesDrivesThePercentageWhileRowsDriveTheRate()
    {
        var clock = new ManualClock();
        var error = new StringWriter();
        var progress = BulkProgress.Plain(error, "import", total: 4_000_000, clock, TimeSpan.FromSeconds(2));

        clock.Advance(TimeSpan.FromSeconds(2));
        progress.Report(10_000, 1_000_000);

        Assert.Equal(["import: 10,000 rows, 5,000 rows/s, 25%, ETA 00:00:06"], Lines(error));
    }

    [Fact]
    public void OnATerminalABarIsDrawnAndTheSummaryPrintedBelowIt()
    {
        var clock = new ManualClock();
        var error = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(error),
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Interactive = InteractionSupport.Yes,
        });
        var progress = BulkProgress.For(error, terminal: true, "export", total: 1000, clock, TimeSpan.FromMilliseconds(200), console);

        clock.Advance(TimeSpan.FromSeconds(1));
        progress.Report(400, 400);
        progress.Complete("export: 1,000 rows, 1.0 s");

        var text = error.ToString();
        Assert.Contains("\u001b[", text, StringComparison.Ordinal); // drawn with ANSI sequences, in place
        Assert.Contains("━", text, StringComparison.Ordinal); // the bar
        Assert.Contains("40%", text, StringComparison.Ordinal);
        Assert.Contains("400 rows, 400 rows/s, ETA 00:00:01", text, StringComparison.Ordinal);
        Assert.EndsWith("export: 1,000 rows, 1.0 s" + Environment.NewLine, text, StringComparison.Ordinal);
    }

    [Fact]
    public void OffATerminalNothingButPlainLinesIsWritten()
    {
        var clock = new ManualClock();
        var error = new StringWriter();
        var progress = BulkProgress.For(error, terminal: false, "export", total: 10, clock);

        clock.Advance(TimeSpan.FromSeconds(6));
        progress.Report(5, 5);
        progress.Complete("export: 10 rows");

        Assert.DoesNotContain('\u001b', error.ToString());
        Assert.DoesNotContain("━", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(["export: 5 rows, 1 rows/s, 50%, ETA 00:00:06", "export: 10 rows"], Lines(error));
    }

    private static string[] Lines(StringWriter writer) =>
        writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = TimeSpan.FromHours(1).Ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero).AddTicks(Interlocked.Read(ref _ticks));

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
