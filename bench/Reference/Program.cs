using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using CustomerRecords.Bench.Reference;
using Microsoft.Data.Sqlite;
using MySqlConnector;

// The ceiling the benchmark compares the service with: the same web stack and driver, nothing else.
// GET /json   -> a small fixed JSON document (TechEmpower's "json" test).
// GET /db/{id} -> the service's single-row primary-key select through a pooled MySqlDataSource.
// POST /db, PATCH /db/{id} -> the bare write: one autocommitted INSERT (or UPDATE by primary key) of a
// customer row, nothing read first, nothing else written: what one durable commit costs on this stack.
// GET /sqlite/{id}, POST /sqlite, PATCH /sqlite/{id} -> the same three on SQLite (ConnectionStrings:Sqlite; not
// mapped without it), opened as the service opens its SQLite file: the ceiling of the service on SQLite.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ReferenceJsonContext.Default));
var connectionString = builder.Configuration.GetConnectionString("Customers");
builder.Services.AddSingleton(_ => new MySqlDataSource(connectionString ?? "Server=127.0.0.1;Database=customers"));
var sqliteConnectionString = builder.Configuration.GetConnectionString("Sqlite");
if (sqliteConnectionString is not null)
{
    builder.Services.AddSingleton(new SqliteSource(SqliteRows.CreateSource(sqliteConnectionString)));
}

var app = builder.Build();
app.MapGet("/json", () => TypedResults.Ok(new Greeting("Hello, World!")));
app.MapGet("/db/{id:int}", Rows.GetAsync);
app.MapPost("/db", Rows.CreateAsync);
app.MapPatch("/db/{id:int}", Rows.PatchAsync);
if (sqliteConnectionString is not null)
{
    app.MapGet("/sqlite/{id:int}", SqliteRows.GetAsync);
    app.MapPost("/sqlite", SqliteRows.CreateAsync);
    app.MapPatch("/sqlite/{id:int}", SqliteRows.PatchAsync);
}

await app.RunAsync();

namespace CustomerRecords.Bench.Reference
{
    public sealed record Greeting(string Message);

    public sealed record NewRow(string Name, string Email, string? Phone);

    public sealed record NamePatch(string Name);

    public sealed record Created(long Id);

    public sealed record Row(int Id, string Name, string Email, string? Phone, DateTime CreatedAt, DateTime UpdatedAt, int Version);

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
    [JsonSerializable(typeof(Greeting))]
    [JsonSerializable(typeof(Row))]
    [JsonSerializable(typeof(NewRow))]
    [JsonSerializable(typeof(NamePatch))]
    [JsonSerializable(typeof(Created))]
    internal sealed partial class ReferenceJsonContext : JsonSerializerContext;

    internal static class Rows
    {
        internal const string Sql = "SELECT id, name, email, phone, created_at, updated_at, version FROM customers WHERE id = @id";

        internal const string InsertSql = """
            INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key)
            VALUES (@name, @email, @phone, @now, @now, 1, @email_key, @name_key)
            """;

        internal const string UpdateSql = "UPDATE customers SET name = @name, name_key = @name_key, updated_at = @now, version = version + 1 WHERE id = @id";


        // The body is read by hand: the benchmark's PATCH is application/merge-patch+json, which minimal
        // APIs' JSON binding refuses (415).
        public static async Task<IResult> CreateAsync(HttpRequest request, MySqlDataSource source, CancellationToken ct)
        {
            var row = await JsonSerializer.DeserializeAsync(request.Body, ReferenceJsonContext.Default.NewRow, ct);
            if (row is null)
            {
                return TypedResults.BadRequest();
            }

            await using var connection = await source.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(InsertSql, connection);
            command.Parameters.AddWithValue("@name", row.Name);
            command.Parameters.AddWithValue("@email", row.Email);
            command.Parameters.AddWithValue("@phone", row.Phone);
            command.Parameters.AddWithValue("@now", DateTime.UtcNow);
            command.Parameters.AddWithValue("@email_key", row.Email.ToLowerInvariant());
            command.Parameters.AddWithValue("@name_key", row.Name.ToLowerInvariant());
            await command.ExecuteNonQueryAsync(ct);
            return TypedResults.Created($"/db/{command.LastInsertedId}", new Created(command.LastInsertedId));
        }

        public static async Task<IResult> PatchAsync(int id, HttpRequest request, MySqlDataSource source, CancellationToken ct)
        {
            var patch = await JsonSerializer.DeserializeAsync(request.Body, ReferenceJsonContext.Default.NamePatch, ct);
            if (patch is null)
            {
                return TypedResults.BadRequest();
            }

            await using var connection = await source.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(UpdateSql, connection);
            command.Parameters.AddWithValue("@id", id);
            command.Parameters.AddWithValue("@name", patch.Name);
            command.Parameters.AddWithValue("@name_key", patch.Name.ToLowerInvariant());
            command.Parameters.AddWithValue("@now", DateTime.UtcNow);
            return await command.ExecuteNonQueryAsync(ct) == 1 ? TypedResults.NoContent() : TypedResults.NotFound();
        }

        public static async Task<IResult> GetAsync(int id, MySqlDataSource source, CancellationToken ct)
        {
            await using var connection = await source.OpenConnectionAsync(ct);
            await using var command = new MySqlCommand(Sql, connection);
            command.Parameters.AddWithValue("@id", id);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return TypedResults.NotFound();
            }

            return TypedResults.Ok(ReadRow(reader));
        }

        /// <summary>The current row of <see cref="Sql"/>'s result, as either engine's reader gives it.</summary>
        internal static Row ReadRow(DbDataReader reader) => new(
            reader.GetInt32(0),
            reader.GetString(1),
            reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc),
            DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc),
            reader.GetInt32(6));
    }

    /// <summary>The SQLite file the /sqlite endpoints use.</summary>
    internal sealed class SqliteSource(DbDataSource source)
    {
        public DbDataSource Source { get; } = source;
    }

    /// <summary>
    /// The /db endpoints' SQL and answers on SQLite, through Microsoft.Data.Sqlite as the service opens its file
    /// (Data/ConnectionSettings, Data/DatabaseExtensions): the connection string as given, pooled (the provider's
    /// default), a 30 s busy wait for the write lock unless the string sets one, no pragmas per connection. WAL is
    /// the file's own setting, left by the service's migrate command; synchronous stays the library's default, as
    /// the service leaves it, so a commit here is the same durable commit as the service's. The service does not
    /// serialize writers itself (SQLite's lock and the busy wait do), so neither does this.
    /// </summary>
    internal static class SqliteRows
    {
        private static readonly string InsertReturningId = Rows.InsertSql.TrimEnd() + " RETURNING id";

        public static DbDataSource CreateSource(string connectionString)
        {
            var builder = new SqliteConnectionStringBuilder(connectionString);
            if (builder.DefaultTimeout <= 0)
            {
                builder.DefaultTimeout = 30;
            }

            return SqliteFactory.Instance.CreateDataSource(builder.ConnectionString);
        }

        // The ceiling of the service's POST /customers on SQLite: one autocommitted INSERT.
        public static async Task<IResult> CreateAsync(HttpRequest request, SqliteSource sqlite, CancellationToken ct)
        {
            var row = await JsonSerializer.DeserializeAsync(request.Body, ReferenceJsonContext.Default.NewRow, ct);
            if (row is null)
            {
                return TypedResults.BadRequest();
            }

            await using var connection = await sqlite.Source.OpenConnectionAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = InsertReturningId;
            Add(command, "@name", row.Name);
            Add(command, "@email", row.Email);
            Add(command, "@phone", row.Phone);
            Add(command, "@now", DateTime.UtcNow);
            Add(command, "@email_key", row.Email.ToLowerInvariant());
            Add(command, "@name_key", row.Name.ToLowerInvariant());
            var id = Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Created($"/sqlite/{id}", new Created(id));
        }

        // The ceiling of the service's PATCH /customers/{id} on SQLite: one autocommitted UPDATE by primary key.
        public static async Task<IResult> PatchAsync(int id, HttpRequest request, SqliteSource sqlite, CancellationToken ct)
        {
            var patch = await JsonSerializer.DeserializeAsync(request.Body, ReferenceJsonContext.Default.NamePatch, ct);
            if (patch is null)
            {
                return TypedResults.BadRequest();
            }

            await using var connection = await sqlite.Source.OpenConnectionAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = Rows.UpdateSql;
            Add(command, "@id", id);
            Add(command, "@name", patch.Name);
            Add(command, "@name_key", patch.Name.ToLowerInvariant());
            Add(command, "@now", DateTime.UtcNow);
            return await command.ExecuteNonQueryAsync(ct) == 1 ? TypedResults.NoContent() : TypedResults.NotFound();
        }

        // The ceiling of the service's GET /customers/{id} on SQLite with the cache off: the primary-key select.
        public static async Task<IResult> GetAsync(int id, SqliteSource sqlite, CancellationToken ct)
        {
            await using var connection = await sqlite.Source.OpenConnectionAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = Rows.Sql;
            Add(command, "@id", id);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return TypedResults.NotFound();
            }

            return TypedResults.Ok(Rows.ReadRow(reader));
        }

        private static void Add(DbCommand command, string name, object? value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
    }
}
