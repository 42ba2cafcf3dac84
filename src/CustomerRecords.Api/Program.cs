using CustomerRecords.Api.Caching;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Errors;
using CustomerRecords.Api.Http;
using CustomerRecords.Api.Operations;
using CustomerRecords.Api.Security;

// `hash-key` / `generate-key` print API-key material and exit without starting anything.
if (SecurityCommands.TryRunSecurityCommand(args, Console.Out))
{
    return;
}

// `CustomerRecords.Api migrate` applies the schema and exits; anything else serves the API.
var migrateOnly = args is ["migrate", ..];
var builder = WebApplication.CreateBuilder(migrateOnly ? args[1..] : args);

builder.AddSecurity();
builder.AddOperations();
builder.AddErrorHandling();
builder.AddDatabase();
builder.AddCaching();
builder.AddCustomers();
builder.AddApiDocs();

var app = builder.Build();

app.UseErrorHandling();
app.UseSecurity();
app.MapOperations();
app.MapHealth();
app.MapCustomersApi();
app.MapTutorialApi();
app.MapApiDocs();

await app.MigrateDatabaseAsync(force: migrateOnly);
if (!migrateOnly)
{
    await app.RunAsync();
}

/// <summary>Entry point; public so tests can host the app through WebApplicationFactory.</summary>
public partial class Program;
