using CustomerRecords.Api.Caching;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Errors;
using CustomerRecords.Api.Http;
using CustomerRecords.Api.Operations;

// `CustomerRecords.Api migrate` applies the schema and exits; anything else serves the API.
var migrateOnly = args is ["migrate", ..];
var builder = WebApplication.CreateBuilder(migrateOnly ? args[1..] : args);

builder.AddOperations();
builder.AddErrorHandling();
builder.AddDatabase();
builder.AddCaching();
builder.AddCustomers();
builder.AddApiDocs();

var app = builder.Build();

app.UseErrorHandling();
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
