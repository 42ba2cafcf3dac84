using System.CommandLine;
using System.Globalization;
using CsvHelper;
using CustomerRecords.Api.Bulk;
using CustomerRecords.Api.Customers;

namespace CustomerRecords.Api.Cli;

/// <summary>
/// <c>import FILE|-</c>: customers from a CSV or NDJSON file (<see cref="CustomerFile"/>) into the database, batch by
/// batch, through <see cref="CustomerImporter"/>. Exit codes: 0 every row went in (skipped and unchanged rows count as
/// in), 3 some lines were rejected (listed in the report), 1 the import stopped (a file error, a conflict under
/// <c>--on-conflict fail</c>, the database), 2 usage.
/// </summary>
internal static class ImportCommand
{
    /// <summary>Text after the command's help.</summary>
    public const string Notes = """
        Exit codes:
          0  every row went in (rows skipped or unchanged count as in)
          3  some lines were rejected: the report lists line, field and reason
          1  the import stopped (a file error, a conflict with --on-conflict fail, the database):
             the summary says at which line and what was committed before
          2  usage error

        Summary on standard error: read, created, updated, unchanged, skipped, rejected, seconds.

        """;

    /// <summary>The actor of the history events an import from the command line writes.</summary>
    public static readonly ChangeContext Actor = new("cli:import", null);

    public static Command Create(CliConsole console, Func<IReadOnlyList<string>> currentSettings, ComposeService compose, Option<bool> verbose)
    {
        var file = new Argument<string>("file") { Description = "The CSV or NDJSON file to import; - reads standard input (then --format is required)." };
        var format = new Option<CustomerFileFormat?>("--format") { Description = "csv or ndjson; by default from the file's extension (.csv, .ndjson, .jsonl)." };
        var onConflict = new Option<ImportConflict>("--on-conflict")
        {
            Description = "When a live customer already has a row's email (letter case ignored): skip it (the default), " +
                "update its name and phone, or fail (stop; nothing of that batch is written).",
            DefaultValueFactory = _ => ImportConflict.Skip,
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check every row and count what would happen against the database; write nothing." };
        var report = new Option<string?>("--report") { Description = "Where to list the rejected lines (line, field, reason; never the values). Default: FILE.rejected.csv; with - standard error." };
        var batchSize = BatchSizeOption();
        var command = new Command(
            "import",
            "Import customers from a CSV or NDJSON file (what export writes; also the original tutorial table's columns). " +
            "Every row is checked with the API's rules; a bad row is rejected with its line and field and the rest go in. " +
            "Safe to run again: a customer whose email is already there is never created twice.")
        {
            file, format, onConflict, dryRun, report, batchSize,
        };
        command.Validators.Add(r =>
        {
            var path = r.GetValue(file);
            if (path is not null && r.GetValue(format) is null && (path == "-" || CustomerFile.FromFileName(path) is null))
            {
                r.AddError(path == "-" ? "Reading standard input needs --format csv or --format ndjson." : "Give --format csv or --format ndjson: the file's extension is not .csv, .ndjson or .jsonl.");
            }
        });
        command.SetAction((result, ct) =>
        {
            var path = result.GetValue(file)!;
            var options = new ImportOptions(result.GetValue(onConflict), result.GetValue(dryRun), result.GetValue(batchSize));
            var fileFormat = result.GetValue(format) ?? CustomerFile.FromFileName(path)!.Value;
            var reportPath = result.GetValue(report) ?? (path == "-" ? null : path + ".rejected.csv");
            return new ServiceHost(compose, currentSettings(), result.GetValue(verbose), console).RunToolAsync(
                "Import failed",
                migrate: true,
                (services, token) => RunAsync(services, console, path, fileFormat, options, reportPath, token),
                ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        IServiceProvider services, CliConsole console, string path, CustomerFileFormat format, ImportOptions options, string? reportPath, CancellationToken ct)
    {
        await using var input = path == "-" ? Console.OpenStandardInput() : OpenFile(path);
        return await RunAsync(
            services, console, "import", CustomerFileReader.ReadAsync(input, format, ct), options, Actor, reportPath,
            input.CanSeek ? input.Length : null, () => input.CanSeek ? input.Position : null, ct);
    }

    /// <summary>Runs <paramref name="rows"/> through the import engine with progress on standard error; returns the exit code.</summary>
    internal static async Task<int> RunAsync(
        IServiceProvider services,
        CliConsole console,
        string verb,
        IAsyncEnumerable<CustomerFileRow> rows,
        ImportOptions options,
        ChangeContext actor,
        string? reportPath,
        long? total,
        Func<long?> position,
        CancellationToken ct)
    {
        var progress = CreateProgress(console, verb, total);
        await using var rejections = new RejectionReport(reportPath, console.Error);
        var summary = await services.GetRequiredService<CustomerImporter>().RunAsync(
            rows, options, actor, rejections.Add, s => progress.Report(s.Read, position()), TimeProvider.System, ct);
        await rejections.DisposeAsync();
        var text = summary.Describe(verb);
        if (rejections.Count > 0 && reportPath is not null)
        {
            text += Environment.NewLine + $"Rejected lines are listed in {reportPath}";
        }

        progress.Complete(text);
        return summary.ExitCode;
    }

    /// <summary><c>--batch-size</c>, shared by <c>import</c> and <c>seed</c>.</summary>
    internal static Option<int> BatchSizeOption()
    {
        var option = new Option<int>("--batch-size")
        {
            Description = $"Rows per transaction, 1 to {CustomerImporter.MaxBatchSize}.",
            DefaultValueFactory = _ => CustomerImporter.DefaultBatchSize,
        };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > CustomerImporter.MaxBatchSize)
            {
                r.AddError($"--batch-size must be from 1 to {CustomerImporter.MaxBatchSize}.");
            }
        });
        return option;
    }

    /// <summary>Where the terminal variant of the progress display is chosen: standard error a terminal or not.</summary>
    internal static BulkProgress CreateProgress(CliConsole console, string verb, long? total) =>
        BulkProgress.For(console.Error, console.InteractiveError, verb, total);

    private static FileStream OpenFile(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Cannot read {path}: {e.Message}", e);
        }
    }

    /// <summary>The rejected lines as CSV (<c>line,field,reason</c>), opened at the first one; without a path, on standard error.</summary>
    private sealed class RejectionReport(string? path, TextWriter error) : IAsyncDisposable
    {
        private CsvWriter? _csv;
        private bool _closed;

        public long Count { get; private set; }

        public void Add(ImportRejection rejection)
        {
            Count++;
            if (path is null)
            {
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"line {rejection.Line}: {rejection.Field}: {rejection.Reason}"));
                return;
            }

            _csv ??= CsvWriter.ToFile(path);
            if (Count == 1)
            {
                _csv.WriteHeader(["line", "field", "reason"]);
            }

            _csv.WriteRecord([rejection.Line.ToString(CultureInfo.InvariantCulture), rejection.Field, rejection.Reason]);
        }

        public async ValueTask DisposeAsync()
        {
            if (_csv is not null && !_closed)
            {
                _closed = true;
                await _csv.DisposeAsync();
            }
        }
    }
}
