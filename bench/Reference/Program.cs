using System.Text.Json.Serialization;
using CustomerRecords.Bench.Reference;
using MySqlConnector;

// The ceiling the benchmark compares the service with: the same web stack and driver, nothing else.
// GET /json   -> a small fixed JSON document (TechEmpower's "json" test).
// GET /db/{id} -> the service's single-row primary-key select through a pooled MySqlDataSource.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ReferenceJsonContext.Default));
var connectionString = builder.Configuration.GetConnectionString("Customers");
builder.Services.AddSingleton(_ => new MySqlDataSource(connectionString ?? "Server=127.0.0.1;Database=customers"));

var app = builder.Build();
app.MapGet("/json", () => TypedResults.Ok(new Greeting("Hello, World!")));
app.MapGet("/db/{id:int}", Rows.GetAsync);
await app.RunAsync();

namespace CustomerRecords.Bench.Reference
{
    public sealed record Greeting(string Message);

    public sealed record Row(int Id, string Name, string Email, string? Phone, DateTime CreatedAt, DateTime UpdatedAt, int Version);

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
    [JsonSerializable(typeof(Greeting))]
    [JsonSerializable(typeof(Row))]
    internal sealed partial class ReferenceJsonContext : JsonSerializerContext;

    internal static class Rows
    {
        private const string Sql = "SELECT id, name, email, phone, created_at, updated_at, version FROM customers WHERE id = @id";

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
