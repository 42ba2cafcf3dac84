using System.Text.Json;
using System.Text.Json.Serialization;
using CustomerRecords.Bench.Reference;
using MySqlConnector;

// The ceiling the benchmark compares the service with: the same web stack and driver, nothing else.
// GET /json   -> a small fixed JSON document (TechEmpower's "json" test).
// GET /db/{id} -> the service's single-row primary-key select through a pooled MySqlDataSource.
// POST /db, PATCH /db/{id} -> the bare write: one autocommitted INSERT (or UPDATE by primary key) of a
// customer row, nothing read first, nothing else written: what one durable commit costs on this stack.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ReferenceJsonContext.Default));
var connectionString = builder.Configuration.GetConnectionString("Customers");
builder.Services.AddSingleton(_ => new MySqlDataSource(connectionString ?? "Server=127.0.0.1;Database=customers"));

var app = builder.Build();
app.MapGet("/json", () => TypedResults.Ok(new Greeting("Hello, World!")));
app.MapGet("/db/{id:int}", Rows.GetAsync);
app.MapPost("/db", Rows.CreateAsync);
app.MapPatch("/db/{id:int}", Rows.PatchAsync);
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
        private const string Sql = "SELECT id, name, email, phone, created_at, updated_at, version FROM customers WHERE id = @id";

        private const string InsertSql = """
            INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key)
            VALUES (@name, @email, @phone, @now, @now, 1, @email_key, @name_key)
            """;

        private const string UpdateSql = "UPDATE customers SET name = @name, name_key = @name_key, updated_at = @now, version = version + 1 WHERE id = @id";

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

            return TypedResults.Ok(new Row(
                reader.GetInt32(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc),
                DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc),
                reader.GetInt32(6)));
        }
    }
}
