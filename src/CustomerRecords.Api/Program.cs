using CustomerRecords.Api.Admin;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Bulk;
using CustomerRecords.Api.Caching;
using CustomerRecords.Api.Cli;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Docs;
using CustomerRecords.Api.Errors;
using CustomerRecords.Api.History;
using CustomerRecords.Api.Hosting;
using CustomerRecords.Api.Idempotency;
using CustomerRecords.Api.Operations;
using CustomerRecords.Api.OriginalRoutes;
using CustomerRecords.Api.Redaction;
using CustomerRecords.Api.Secrets;

// The command line (Cli/CommandLineApp): `serve` (the default), `migrate [--status]`, `hash-key`, `generate-key`,
// `help`, `--version`. Settings (--Key=value, --urls ...) go to the host; a failed start is one message and exit code 1.
return await CommandLineApp.RunAsync(args, Compose);

// The service: every feature's registrations and middleware, on the builder the command line made.
static WebApplication Compose(WebApplicationBuilder builder)
{
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
    builder.AddHistory();
    builder.AddCustomerExport();
    builder.AddBulk();
    builder.AddOriginalRoutes();
    builder.AddApiDocs();
    builder.AddAdmin();

    var app = builder.Build();

    app.UseErrorHandling();
    app.UseEdge();
    app.MapOperations();
    app.MapHealth();
    app.MapImportApi();
    app.MapCustomersApi();
    app.MapHistoryApi();
    app.MapCustomerExport();
    app.MapOriginalRoutes();
    app.MapApiDocs();
    app.MapAdmin();
    return app;
}

/// <summary>Entry point; public so tests can host the app through WebApplicationFactory.</summary>
public partial class Program;
