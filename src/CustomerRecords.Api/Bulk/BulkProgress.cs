using System.Globalization;
using Spectre.Console;

namespace CustomerRecords.Api.Bulk;

/// <summary>
/// Progress of a long bulk run (<c>import</c>, <c>export</c>, <c>seed</c>) on standard error: rows done, rate and, when
/// the total is known, percentage and ETA. Off a terminal it writes one plain line every <c>interval</c>; the
/// terminal variant draws a bar. The run calls <see cref="Report"/> as it goes (cheap: it only stores two numbers
/// unless a line is due) and <see cref="Complete"/> once at the end.
/// </summary>
/// <remarks>
/// <paramref name="total"/> and the <c>position</c> passed to <see cref="Report"/> are in one unit: rows when the
/// run knows how many there are (export), bytes of the input when it does not (import of a file).
/// </remarks>
public class BulkProgress(TextWriter error, string verb, long? total, TimeProvider time, TimeSpan interval)
{
    private readonly long _started = time.GetTimestamp();
    private long _lastLine;
    private long _rows;
    private long _position;

    /// <summary>Rows reported so far.</summary>
    public long Rows => Interlocked.Read(ref _rows);

    /// <summary>The total, in the unit of <see cref="Report"/>'s position; null when unknown.</summary>
    protected long? Total => total;

    /// <summary>What the run does, as the progress lines name it (<c>import</c>).</summary>
    protected string Verb => verb;

    /// <summary>Time since the run started.</summary>
    public TimeSpan Elapsed => time.GetElapsedTime(_started);

    /// <summary>A plain reporter (lines every <paramref name="interval"/>, default 5 s) for standard error that is not a terminal.</summary>
    public static BulkProgress Plain(TextWriter error, string verb, long? total, TimeProvider? time = null, TimeSpan? interval = null) =>
        new(error, verb, total, time ?? TimeProvider.System, interval ?? TimeSpan.FromSeconds(5));

    /// <summary>
    /// The reporter for a run's standard error: the terminal bar (Spectre.Console, redrawn every <paramref name="interval"/>,
    /// default 200 ms) when <paramref name="terminal"/> is true, else plain lines (default every 5 s).
    /// <paramref name="console"/> replaces the console drawn on (tests); by default it is made over <paramref name="error"/>.
    /// </summary>
    public static BulkProgress For(
        TextWriter error, bool terminal, string verb, long? total, TimeProvider? time = null, TimeSpan? interval = null, IAnsiConsole? console = null) =>
        terminal
            ? new TerminalBulkProgress(error, verb, total, time ?? TimeProvider.System, interval ?? TimeSpan.FromMilliseconds(200), console ?? TerminalBulkProgress.ConsoleOver(error))
            : Plain(error, verb, total, time, interval);

    /// <summary>Records that <paramref name="rows"/> rows are done and the run is at <paramref name="position"/> (rows or bytes, see remarks).</summary>
    public void Report(long rows, long? position = null)
    {
        Interlocked.Exchange(ref _rows, rows);
        if (position is { } p)
        {
            Interlocked.Exchange(ref _position, p);
        }

        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastLine);
        if (time.GetElapsedTime(last == 0 ? _started : last, now) >= interval
            && Interlocked.CompareExchange(ref _lastLine, now, last) == last)
        {
            Draw(Line());
        }
    }

    /// <summary>Ends the display and writes <paramref name="summary"/> (one line or a few) on standard error.</summary>
    public virtual void Complete(string summary)
    {
        error.WriteLine(summary);
        error.Flush();
    }

    /// <summary>One plain line: <c>import: 120,000 rows, 24,000 rows/s, 40%, ETA 00:00:20</c>.</summary>
    protected string Line()
    {
        return $"{verb}: {Figures(withPercent: true)}";
    }

    /// <summary>The figures of <see cref="Line"/> without the verb: <c>120,000 rows, 24,000 rows/s[, 40%], ETA 00:00:20</c>.</summary>
    protected string Figures(bool withPercent)
    {
        var rows = Rows;
        var seconds = Math.Max(Elapsed.TotalSeconds, 0.001);
        var rate = rows / seconds;
        var line = string.Create(CultureInfo.InvariantCulture, $"{rows:N0} rows, {rate:N0} rows/s");
        if (total is > 0 && Fraction() is { } fraction)
        {
            var eta = fraction > 0 ? TimeSpan.FromSeconds(seconds * (1 - fraction) / fraction) : (TimeSpan?)null;
            // "40%" as the lines are documented (the invariant culture's P0 would write "40 %").
            var percent = withPercent ? string.Create(CultureInfo.InvariantCulture, $", {fraction * 100:0}%") : string.Empty;
            line += percent + (eta is { } e ? string.Create(CultureInfo.InvariantCulture, $", ETA {e:hh\\:mm\\:ss}") : string.Empty);
        }

        return line;
    }

    /// <summary>How far the run is (0–1) when the total is known.</summary>
    protected double? Fraction()
    {
        if (total is not > 0)
        {
            return null;
        }

        var position = Interlocked.Read(ref _position);
        return Math.Clamp((double)(position > 0 ? position : Rows) / total.Value, 0, 1);
    }

    /// <summary>Shows the current state; the plain reporter writes <paramref name="line"/>.</summary>
    protected virtual void Draw(string line)
    {
        error.WriteLine(line);
        error.Flush();
    }
}
