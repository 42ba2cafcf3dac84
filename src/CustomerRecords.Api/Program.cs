using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Caching;
using CustomerRecords.Api.Cli;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Docs;
using CustomerRecords.Api.Errors;
using CustomerRecords.Api.Hosting;
using CustomerRecords.Api.Idempotency;
using CustomerRecords.Api.Operations;
using CustomerRecords.Api.OriginalRoutes;
using CustomerRecords.Api.Redaction;
using CustomerRecords.Api.Secrets;

// `hash-key` / `generate-key` print API-key material and exit without starting anything.
if (KeyCommands.TryRun(args, Console.Out))
{
    return;
}

// `CustomerRecords.Api migrate` applies the schema and exits; anything else serves the API.
var migrateOnly = args is ["migrate", ..];
var builder = WebApplication.CreateBuilder(migrateOnly ? args[1..] : args);

// First: any later setting may come from a secret file.
builder.Configuration.AddSecretFiles();
builder.AddLogRedaction();
builder.AddOperations();
builder.AddErrorHandling();
builder.AddAuth();
builder.AddHosting();
builder.AddDatabase();
builder.AddCaching();
builder.AddIdempotency();
builder.AddCustomers();
builder.AddOriginalRoutes();
builder.AddApiDocs();

var app = builder.Build();

app.UseErrorHandling();
app.UseEdge();
app.MapOperations();
app.MapHealth();
app.MapCustomersApi();
app.MapOriginalRoutes();
app.MapApiDocs();

await app.MigrateDatabaseAsync(force: migrateOnly);
if (!migrateOnly)
{
    await app.RunAsync();
}

/// <summary>Entry point; public so tests can host the app through WebApplicationFactory.</summary>
public partial class Program;
