using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CsvHelper;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Bulk;

/// <summary>What an export wrote.</summary>
/// <param name="Rows">Customers written.</param>
/// <param name="Bytes">Bytes written, header included.</param>
public readonly record struct ExportResult(long Rows, long Bytes);

/// <summary>
/// Bulk export of the live customers (<c>export</c> and <c>GET /customers/export</c>): one snapshot of the table,
/// read by id in batches and written as it is read, so memory stays flat whatever the row count.
/// </summary>
/// <remarks>
/// The snapshot is one read-only transaction (<see cref="SqlDialect.BeginSnapshotAsync"/>): the count and every batch
/// see the table as it was when it began, so a concurrent write can neither tear a row nor move one into the export
/// twice or out of it. It reads the replica when one is configured: a replica's snapshot is just as consistent, and
/// a long read there holds no undo history on the writer; the export is then the replica's state, which trails the
/// writer by its replication delay. Soft-deleted customers are never exported: the file is what an import re-creates,
/// and a deleted customer's restore belongs to the database that deleted it.
/// </remarks>
internal sealed class CustomerExport(AppDatabase database, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    /// <summary>Rows per batch: one round trip each, and the most rows an export holds in memory at once.</summary>
    public const int DefaultBatchSize = 5000;

    private readonly JsonTypeInfo<Customer> _customerJson = (JsonTypeInfo<Customer>)json.Value.SerializerOptions.GetTypeInfo(typeof(Customer));

    /// <summary>Rows per batch; tests make it small.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>Runs after every batch of every export, once it is flushed, with the rows written so far (tests pause an export here).</summary>
    public Func<long, CancellationToken, ValueTask>? AfterEachBatch { get; init; }

    /// <summary>Runs when an export's snapshot has been rolled back and its connection returned (tests wait for it).</summary>
    public Action? AfterClose { get; init; }

    /// <summary>
    /// Opens the snapshot and counts what it will export (live customers changed at or after
    /// <paramref name="updatedSince"/>, when given). Nothing has been written yet, so a failure here can still be answered.
    /// </summary>
    public async Task<ExportSnapshot> OpenAsync(DateTime? updatedSince, CancellationToken ct)
    {
        var dialect = database.Dialect;
        var connection = await database.Reader.OpenConnectionAsync(ct);
        DbTransaction? transaction = null;
        try
        {
            transaction = await dialect.BeginSnapshotAsync(connection, ct);
            await using var count = CustomerStore.BuildExportCountCommand(connection, transaction, dialect, updatedSince);
            var total = Convert.ToInt64(await count.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            return new ExportSnapshot(connection, transaction, dialect, updatedSince, total, BatchSize, _customerJson, AfterEachBatch, AfterClose);
        }
        catch
        {
            await ExportSnapshot.CloseAsync(connection, transaction);
            throw;
        }
    }
}

/// <summary>
/// One open export: the count, then <see cref="WriteAsync"/> once. Disposing it ends the transaction (a rollback: it
/// changed nothing) and returns the connection, whether the export finished, failed or its reader went away.
/// </summary>
internal sealed class ExportSnapshot : IAsyncDisposable
{
    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;
    private readonly SqlDialect _dialect;
    private readonly DateTime? _updatedSince;
    private readonly int _batchSize;
    private readonly JsonTypeInfo<Customer> _json;
    private readonly Func<long, CancellationToken, ValueTask>? _afterEachBatch;
    private readonly Action? _afterClose;
    private int _closed;

    internal ExportSnapshot(
        DbConnection connection,
        DbTransaction transaction,
        SqlDialect dialect,
        DateTime? updatedSince,
        long total,
        int batchSize,
        JsonTypeInfo<Customer> json,
        Func<long, CancellationToken, ValueTask>? afterEachBatch,
        Action? afterClose = null)
    {
        _afterEachBatch = afterEachBatch;
        _afterClose = afterClose;
        _connection = connection;
        _transaction = transaction;
        _dialect = dialect;
        _updatedSince = updatedSince;
        Total = total;
        _batchSize = batchSize;
        _json = json;
    }

    /// <summary>How many customers the export holds, counted inside the snapshot (so exact).</summary>
    public long Total { get; }

    /// <summary>
    /// Writes every customer of the snapshot to <paramref name="output"/> in <paramref name="format"/>, in id order, and
    /// flushes after each batch; <paramref name="afterBatch"/> (progress) is told the rows written so far.
    /// </summary>
    public async Task<ExportResult> WriteAsync(
        Stream output, CustomerFileFormat format, Func<long, CancellationToken, ValueTask>? afterBatch, CancellationToken ct)
    {
        var counting = new CountingStream(output);
        await using var rows = format == CustomerFileFormat.Csv ? (RowWriter)new CsvRows(counting) : new NdjsonRows(counting, _json);
        await rows.BeginAsync(ct);
        long written = 0;
        var afterId = 0;
        while (true)
        {
            var inBatch = 0;
            await using (var command = CustomerStore.BuildExportBatchCommand(_connection, _transaction, _dialect, _updatedSince, afterId, _batchSize))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var customer = CustomerStore.ReadExportedRow(reader);
                    await rows.WriteAsync(customer, ct);
                    afterId = customer.Id;
                    inBatch++;
                }
            }

            written += inBatch;
            await rows.FlushAsync(ct);
            if (afterBatch is not null)
            {
                await afterBatch(written, ct);
            }

            if (_afterEachBatch is not null)
            {
                await _afterEachBatch(written, ct);
            }

            if (inBatch < _batchSize)
            {
                return new ExportResult(written, counting.Written);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            await CloseAsync(_connection, _transaction);
            _afterClose?.Invoke();
        }
    }

    /// <summary>Ends the transaction and closes the connection, even after a cancelled read (the rollback is not cancelled).</summary>
    internal static async Task CloseAsync(DbConnection connection, DbTransaction? transaction)
    {
        try
        {
            if (transaction is not null)
            {
                await transaction.RollbackAsync(CancellationToken.None);
            }
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or IOException)
        {
            // A broken connection has no transaction left on the server; closing it below is all there is to do.
        }
        finally
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }

            await connection.DisposeAsync();
        }
    }

    /// <summary>Rows in one format; <see cref="FlushAsync"/> pushes what is buffered to the stream.</summary>
    private abstract class RowWriter : IAsyncDisposable
    {
        public virtual ValueTask BeginAsync(CancellationToken ct) => ValueTask.CompletedTask;

        public abstract ValueTask WriteAsync(Customer customer, CancellationToken ct);

        public abstract Task FlushAsync(CancellationToken ct);

        public abstract ValueTask DisposeAsync();
    }

    /// <summary>
    /// RFC 4180 CSV (CsvHelper's defaults: CRLF line ends, quotes only where needed, no BOM), UTF-8, the header of
    /// <see cref="CustomerFile.Columns"/>; a missing phone is an empty field. Written asynchronously (an HTTP body refuses
    /// synchronous writes), values exactly as stored: no formula-injection escaping, so that an import gives them back.
    /// </summary>
    private sealed class CsvRows(Stream stream) : RowWriter
    {
        private readonly CsvWriter _csv = CsvWriter.Create(stream, CsvWriterOptions.Default with { Injection = CsvInjection.None }, leaveOpen: true);

        public override ValueTask BeginAsync(CancellationToken ct)
        {
            _csv.WriteHeader([.. CustomerFile.Columns]);
            return ValueTask.CompletedTask;
        }

        public override async ValueTask WriteAsync(Customer customer, CancellationToken ct)
        {
            _csv.WriteField(customer.Id.ToString(CultureInfo.InvariantCulture));
            _csv.WriteField(customer.Name);
            _csv.WriteField(customer.Email);
            _csv.WriteField(customer.Phone ?? string.Empty);
            _csv.WriteField(customer.CreatedAt.ToString(CustomerFile.TimestampFormat, CultureInfo.InvariantCulture));
            _csv.WriteField(customer.UpdatedAt.ToString(CustomerFile.TimestampFormat, CultureInfo.InvariantCulture));
            _csv.WriteField(customer.Version.ToString(CultureInfo.InvariantCulture));
            await _csv.EndRecordAsync(ct);
        }

        public override async Task FlushAsync(CancellationToken ct) => await _csv.FlushAsync(ct);

        public override ValueTask DisposeAsync() => _csv.DisposeAsync();
    }

    /// <summary>One customer per line, as the API writes it (the service's JSON options), each line ended by <c>\n</c>.</summary>
    private sealed class NdjsonRows(Stream stream, JsonTypeInfo<Customer> json) : RowWriter
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(256 * 1024);
        private Utf8JsonWriter? _writer;

        public override ValueTask WriteAsync(Customer customer, CancellationToken ct)
        {
            if (_writer is null)
            {
                _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = json.Options.Encoder });
            }
            else
            {
                _writer.Reset(_buffer);
            }

            JsonSerializer.Serialize(_writer, customer, json);
            _writer.Flush();
            _buffer.Write("\n"u8);
            return ValueTask.CompletedTask;
        }

        public override async Task FlushAsync(CancellationToken ct)
        {
            await stream.WriteAsync(_buffer.WrittenMemory, ct);
            _buffer.ResetWrittenCount();
            await stream.FlushAsync(ct);
        }

        public override ValueTask DisposeAsync()
        {
            return _writer?.DisposeAsync() ?? ValueTask.CompletedTask;
        }
    }

    /// <summary>Passes writes through and counts their bytes (the summary's size; an HTTP body has no length to ask).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Written += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            Written += buffer.Length;
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
