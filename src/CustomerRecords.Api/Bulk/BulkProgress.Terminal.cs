using Spectre.Console;
using Spectre.Console.Rendering;

namespace CustomerRecords.Api.Bulk;

/// <summary>
/// The terminal variant of <see cref="BulkProgress"/>: a Spectre.Console bar on standard error — the verb, the bar,
/// the percentage, and rows, rate and ETA — redrawn in place every <c>interval</c> (only as often as
/// <see cref="BulkProgress.Report"/> is called, so a test's fake clock decides), then left on screen above the summary.
/// </summary>
internal sealed class TerminalBulkProgress : BulkProgress
{
    private const double Scale = 1000;

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _display;
    private ProgressContext? _context;
    private ProgressTask? _task;

    public TerminalBulkProgress(TextWriter error, string verb, long? total, TimeProvider time, TimeSpan interval, IAnsiConsole console)
        : base(error, verb, total, time, interval)
    {
        var progress = new Progress(console, time)
            .AutoRefresh(false)
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn { Width = 30 }, new PercentageColumn(), new FiguresColumn(this));
        _display = progress.StartAsync(async context =>
        {
            var task = context.AddTask(verb, autoStart: true, maxValue: Scale);
            task.IsIndeterminate = total is not > 0;
            Volatile.Write(ref _task, task);
            Volatile.Write(ref _context, context);
            context.Refresh();
            await _done.Task;
            Update();
        });
    }

    /// <summary>A console that draws on <paramref name="error"/> (the process's standard error, a terminal).</summary>
    internal static IAnsiConsole ConsoleOver(TextWriter error) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(error),
        Ansi = AnsiSupport.Detect,
        ColorSystem = ColorSystemSupport.Detect,
        Interactive = InteractionSupport.Yes,
    });

    /// <summary>Stops redrawing (the bar stays, at its last state) and writes the summary below it.</summary>
    public override void Complete(string summary)
    {
        _done.TrySetResult();
        _display.GetAwaiter().GetResult();
        base.Complete(summary);
    }

    protected override void Draw(string line) => Update();

    private void Update()
    {
        if (Volatile.Read(ref _task) is not { } task || Volatile.Read(ref _context) is not { } context)
        {
            return;
        }

        if (Fraction() is { } fraction)
        {
            task.Value = fraction * Scale;
        }

        context.Refresh();
    }

    /// <summary>Rows, rate and ETA as the plain lines word them.</summary>
    private sealed class FiguresColumn(TerminalBulkProgress owner) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(owner.Figures(withPercent: false));
    }
}
