using System.Globalization;
using System.Threading.Channels;
using CustomerRecords.Api.Customers;

namespace CustomerRecords.Api.Bulk;

/// <summary>How to run an import.</summary>
/// <param name="OnConflict">What a row whose email a live customer holds does.</param>
/// <param name="DryRun">Decide and count, write nothing.</param>
/// <param name="BatchSize">Rows per transaction (1–<see cref="CustomerImporter.MaxBatchSize"/>).</param>
internal sealed record ImportOptions(ImportConflict OnConflict = ImportConflict.Skip, bool DryRun = false, int BatchSize = CustomerImporter.DefaultBatchSize);

/// <summary>One rejected line: where and why, never the value.</summary>
internal readonly record struct ImportRejection(long Line, string Field, string Reason);

/// <summary>What an import did. Counts are of rows; <see cref="Rejected"/> counts lines (a line may have several <see cref="ImportRejection"/>s).</summary>
internal sealed class ImportSummary
{
    public long Read { get; set; }
    public long Created { get; set; }
    public long Updated { get; set; }
    public long Unchanged { get; set; }
    public long Skipped { get; set; }
    public long Rejected { get; set; }
    public TimeSpan Elapsed { get; set; }
    public bool DryRun { get; set; }

    /// <summary>The last line of the last committed batch (0: none).</summary>
    public long CommittedThroughLine { get; set; }

    /// <summary>Set when the import stopped early: the line, and why (a file error, or a conflict under <see cref="ImportConflict.Fail"/>).</summary>
    public long? StoppedAtLine { get; set; }

    public string? StopReason { get; set; }

    /// <summary>True when the stop was a file error (the file, not the data, is at fault).</summary>
    public bool FileError { get; set; }

    /// <summary>Exit code of an import that left some lines out (see the report).</summary>
    public const int SomeRejected = 3;

    /// <summary>0 every row went in (or was skipped/unchanged), <see cref="SomeRejected"/> some lines were rejected, 1 the import stopped early.</summary>
    public int ExitCode => StoppedAtLine is not null ? 1 : Rejected > 0 ? SomeRejected : 0;

    /// <summary>The summary line(s) for standard error.</summary>
    public override string ToString() => Describe("import");

    /// <summary>The summary line(s), naming the run <paramref name="verb"/> (<c>import</c>, <c>seed</c>).</summary>
    public string Describe(string verb)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{(DryRun ? verb + " (dry run, nothing written)" : verb)}: read {Read}, created {Created}, updated {Updated}, unchanged {Unchanged}, skipped {Skipped}, rejected {Rejected}, {Elapsed.TotalSeconds:F1} s");
        if (StoppedAtLine is { } stopped)
        {
            line += Environment.NewLine + string.Create(CultureInfo.InvariantCulture,
                $"Stopped at line {stopped}: {StopReason} {(CommittedThroughLine > 0 && !DryRun ? $"Batches through line {CommittedThroughLine} were committed; running the import again after the fix skips them." : "Nothing was written.")}");
        }

        return line;
    }
}

/// <summary>
/// The import engine shared by the <c>import</c> and <c>seed</c> commands and <c>POST /customers/import</c>: each row
/// checked with <see cref="CustomerRules"/> (a bad row rejected with its line and field, the rest go in), duplicate
/// emails and ids inside the file refused on the later line, then batches written by <see cref="CustomerStore.ImportBatchAsync"/>,
/// and changed customers written through the cache after each commit.
/// </summary>
/// <remarks>
/// Re-runnable: a row whose email a live customer holds is a conflict, never a second customer, so an import run
/// twice (or run again after being stopped) creates each customer once. Memory stays flat apart from the sets of
/// email hashes and ids seen (<see cref="SeenHashes"/>, 11–21 bytes a row each) that find duplicates inside the file.
/// </remarks>
internal sealed class CustomerImporter(CustomerStore store, ICustomerCache cache)
{
    public const int DefaultBatchSize = 1000;

    /// <summary>Most rows a batch may hold.</summary>
    public const int MaxBatchSize = CustomerImportLimits.MaxBatchSize;

    public async Task<ImportSummary> RunAsync(
        IAsyncEnumerable<CustomerFileRow> rows,
        ImportOptions options,
        ChangeContext who,
        Action<ImportRejection> rejected,
        Action<ImportSummary> progress,
        TimeProvider time,
        CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var summary = new ImportSummary { DryRun = options.DryRun };

        // The reader fills the next batch while the writer waits on the database: one batch queued, one being
        // filled, one being written. Everything the caller sees (counts, rejections, progress) happens on this side,
        // in line order, as if the file were read here.
        var queue = Channel.CreateBounded<ReadBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reading = Task.Run(() => ReadBatchesAsync(rows, options.BatchSize, queue.Writer, stopReading.Token), CancellationToken.None);
        try
        {
            await foreach (var batch in queue.Reader.ReadAllAsync(CancellationToken.None))
            {
                summary.Read += batch.Read;
                foreach (var (line, errors) in batch.Rejected)
                {
                    Reject(summary, rejected, line, errors);
                }

                if (batch.FileError is { } error)
                {
                    summary.StoppedAtLine = error.Line;
                    summary.StopReason = error.Message;
                    summary.FileError = true;
                    break;
                }

                if (batch.Rows.Count == 0)
                {
                    continue;
                }

                if (!await WriteAsync(batch.Rows, options, who, summary, rejected, ct))
                {
                    break;
                }

                if (batch.Rows.Count >= options.BatchSize)
                {
                    progress(summary);
                }
            }

            if (summary.StoppedAtLine is null)
            {
                // The reader's own failure (the request body's limit, cancellation, an I/O error), as it was thrown.
                await reading;
            }
        }
        finally
        {
            await stopReading.CancelAsync();
            await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return Finish(summary, started, time);
    }

    /// <summary>What the reader hands the writer: a batch of valid rows, and the lines read and rejected while it filled.</summary>
    private sealed class ReadBatch(int capacity)
    {
        public List<ImportCandidate> Rows { get; } = new(capacity);

        public List<(long Line, List<(string Field, string Reason)> Errors)> Rejected { get; } = [];

        public long Read { get; set; }

        /// <summary>Set on the last batch when the file stopped the import; its rows are not written.</summary>
        public CustomerFileException? FileError { get; set; }
    }

    /// <summary>
    /// Reads, checks and batches the rows: each row validated, duplicate emails and ids inside the file refused on
    /// the later line. A file error ends the queue with a batch that carries it.
    /// </summary>
    private static async Task ReadBatchesAsync(IAsyncEnumerable<CustomerFileRow> rows, int batchSize, ChannelWriter<ReadBatch> queue, CancellationToken ct)
    {
        try
        {
            var emails = new SeenHashes();
            var ids = new SeenHashes();
            var batch = new ReadBatch(batchSize);
            try
            {
                await foreach (var row in rows.WithCancellation(ct))
                {
                    batch.Read++;
                    if (Validate(row) is not { } candidate)
                    {
                        batch.Rejected.Add((row.Line, row.Errors!));
                        continue;
                    }

                    var emailHash = Hash(CustomerRules.EmailKey(candidate.Change.Email!));
                    if (!emails.Add(emailHash))
                    {
                        batch.Rejected.Add((row.Line, [(CustomerFile.Email, "The email appears on an earlier line of the file (letter case ignored).")]));
                        continue;
                    }

                    if (candidate.Id is { } id && !ids.Add((ulong)id))
                    {
                        batch.Rejected.Add((row.Line, [(CustomerFile.Id, "The id appears on an earlier line of the file.")]));
                        continue;
                    }

                    batch.Rows.Add(candidate);
                    if (batch.Rows.Count >= batchSize)
                    {
                        await queue.WriteAsync(batch, ct);
                        batch = new ReadBatch(batchSize);
                    }
                }
            }
            catch (CustomerFileException e)
            {
                // As before the queue: the rows of the unfinished batch are not written, its lines are counted.
                batch.Rows.Clear();
                batch.FileError = e;
            }

            await queue.WriteAsync(batch, ct);
        }
        finally
        {
            queue.Complete();
        }
    }

    private static ImportSummary Finish(ImportSummary summary, long started, TimeProvider time)
    {
        summary.Elapsed = time.GetElapsedTime(started);
        return summary;
    }

    /// <summary>Writes one batch; false when a conflict under <see cref="ImportConflict.Fail"/> stopped the import.</summary>
    private async Task<bool> WriteAsync(
        List<ImportCandidate> batch, ImportOptions options, ChangeContext who, ImportSummary summary, Action<ImportRejection> rejected, CancellationToken ct)
    {
        var result = await store.ImportBatchAsync(batch, options.OnConflict, options.DryRun, who, ct);
        if (result.ConflictLine is { } line)
        {
            summary.StoppedAtLine = line;
            summary.StopReason = "A live customer already has this line's email (--on-conflict fail); nothing of its batch was written.";
            return false;
        }

        foreach (var customer in result.Updated)
        {
            // Through the service's cache: its Redis tier and backplane learn of the change like any other write.
            await cache.SetAsync(customer);
        }

        foreach (var (row, outcome) in result.Rows)
        {
            switch (outcome)
            {
                case ImportRowResult.Created:
                    summary.Created++;
                    break;
                case ImportRowResult.Updated:
                    summary.Updated++;
                    break;
                case ImportRowResult.Unchanged:
                    summary.Unchanged++;
                    break;
                case ImportRowResult.Skipped:
                    summary.Skipped++;
                    break;
                default:
                    Reject(summary, rejected, row.Line, [(CustomerFile.Id, ImportBatchResult.IdTaken)]);
                    break;
            }
        }

        summary.CommittedThroughLine = batch[^1].Line;
        return true;
    }

    private static void Reject(ImportSummary summary, Action<ImportRejection> rejected, long line, List<(string Field, string Reason)> errors)
    {
        summary.Rejected++;
        foreach (var (field, reason) in errors)
        {
            rejected(new ImportRejection(line, field, reason));
        }
    }

    /// <summary>The row as the API's rules see it, or null with <see cref="CustomerFileRow.Errors"/> set.</summary>
    internal static ImportCandidate? Validate(CustomerFileRow row)
    {
        if (row.Errors is { Count: > 0 })
        {
            return null;
        }

        var name = Check(row, CustomerFile.Name, row.Name, required: true, CustomerRules.NormalizeName);
        var email = Check(row, CustomerFile.Email, row.Email, required: true, CustomerRules.NormalizeEmail);
        var phone = Check(row, CustomerFile.Phone, row.Phone, required: false, CustomerRules.NormalizePhone);
        int? id = null;
        if (!string.IsNullOrWhiteSpace(row.Id))
        {
            if (int.TryParse(row.Id.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1)
            {
                id = value;
            }
            else
            {
                row.Reject(CustomerFile.Id, "The id must be a whole number from 1 to 2147483647 (or empty).");
            }
        }

        DateTime? createdAt = null;
        if (!string.IsNullOrWhiteSpace(row.CreatedAt))
        {
            createdAt = ParseTime(row.CreatedAt.Trim());
            if (createdAt is null)
            {
                row.Reject(CustomerFile.CreatedAt, "The created_at must be a UTC time: 2026-12-02T05:22:33.123Z or 2026-12-02 05:22:33 (or empty).");
            }
        }

        if (row.Errors is { Count: > 0 })
        {
            return null;
        }

        return new ImportCandidate(row.Line, id, new CustomerChange(name, email, row.HasPhone, phone), createdAt);
    }

    private static string? Check(CustomerFileRow row, string field, string? raw, bool required, Func<string, (string? Value, string? Error)> normalize)
    {
        if (raw is not null && raw.Contains(CustomerFileReader.Invalid, StringComparison.Ordinal))
        {
            row.Reject(field, CustomerFileReader.NotUtf8);
            return null;
        }

        if (raw is null)
        {
            if (required)
            {
                row.Reject(field, $"The {field} is required.");
            }

            return null;
        }

        var (value, error) = normalize(raw);
        if (error is not null)
        {
            row.Reject(field, error);
        }

        return value;
    }

    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd'T'HH:mm:sszzz",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ss",
    ];

    /// <summary>A timestamp of <see cref="CustomerFile"/> (UTC ISO 8601, or the MySQL client's form read as UTC), at microsecond precision.</summary>
    internal static DateTime? ParseTime(string text)
    {
        if (!DateTimeOffset.TryParseExact(text, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            || parsed.Year < 1000)
        {
            return null;
        }

        var ticks = parsed.UtcTicks;
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }

    /// <summary>FNV-1a 64 of the email key: the file's duplicate check keeps 8 bytes a row, not the address (the odds of a false match in a million rows are below 1 in 10^7).</summary>
    private static ulong Hash(string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
