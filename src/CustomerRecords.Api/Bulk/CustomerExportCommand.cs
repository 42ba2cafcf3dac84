using System.Globalization;

namespace CustomerRecords.Api.Bulk;

/// <summary>What <c>export</c> was asked for.</summary>
/// <param name="Format">CSV or NDJSON.</param>
/// <param name="UpdatedSince">Only customers changed at or after this instant (UTC), when given.</param>
/// <param name="OutputPath">The file to write, or null for standard output.</param>
public sealed record ExportCommandOptions(CustomerFileFormat Format, DateTime? UpdatedSince, string? OutputPath);

/// <summary>
/// <c>export</c>: the snapshot of <see cref="CustomerExport"/> written to standard output or to a file; progress and
/// the summary on standard error. A file is written under a temporary name beside it and renamed when complete, so
/// it is never seen half-written and an existing file is replaced only by a whole export.
/// </summary>
internal static class CustomerExportCommand
{
    public static async Task<int> RunAsync(
        IServiceProvider services, ExportCommandOptions options, Func<Stream> openStandardOutput, TextWriter error, bool terminal, CancellationToken ct)
    {
        var export = services.GetRequiredService<CustomerExport>();
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        await using var snapshot = await export.OpenAsync(options.UpdatedSince, ct);
        var progress = BulkProgress.For(error, terminal, "export", snapshot.Total, time);
        ValueTask AfterBatch(long rows, CancellationToken _)
        {
            progress.Report(rows, rows);
            return ValueTask.CompletedTask;
        }

        ExportResult result;
        try
        {
            result = options.OutputPath is null
                ? await WriteToStandardOutputAsync(snapshot, options.Format, openStandardOutput, AfterBatch, ct)
                : await WriteToFileAsync(snapshot, options.Format, options.OutputPath, AfterBatch, ct);
        }
        catch
        {
            progress.Complete(string.Create(CultureInfo.InvariantCulture, $"export: stopped after {progress.Rows:N0} of {snapshot.Total:N0} rows"));
            throw;
        }

        var seconds = progress.Elapsed.TotalSeconds;
        progress.Complete(string.Create(
            CultureInfo.InvariantCulture,
            $"export: {result.Rows:N0} rows, {result.Bytes:N0} bytes in {seconds:0.0} s ({result.Rows / Math.Max(seconds, 0.001):N0} rows/s) to {options.OutputPath ?? "standard output"}"));
        return 0;
    }

    private static async Task<ExportResult> WriteToStandardOutputAsync(
        ExportSnapshot snapshot, CustomerFileFormat format, Func<Stream> open, Func<long, CancellationToken, ValueTask> afterBatch, CancellationToken ct)
    {
        await using var output = open();
        return await snapshot.WriteAsync(output, format, afterBatch, ct);
    }

    private static async Task<ExportResult> WriteToFileAsync(
        ExportSnapshot snapshot, CustomerFileFormat format, string path, Func<long, CancellationToken, ValueTask> afterBatch, CancellationToken ct)
    {
        var target = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The folder of --out does not exist: {directory}");
        }

        var temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            ExportResult result;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                result = await snapshot.WriteAsync(file, format, afterBatch, ct);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
            return result;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
