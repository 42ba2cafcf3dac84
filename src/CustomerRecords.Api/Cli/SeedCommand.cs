using System.CommandLine;
using CustomerRecords.Api.Bulk;
using CustomerRecords.Api.Customers;

namespace CustomerRecords.Api.Cli;

/// <summary>
/// <c>seed --count N</c>: fake customers (<see cref="SeedCustomers"/>) through the import engine. Refused in the
/// Production environment unless <c>--force</c>. Existing emails are skipped, so the same seed run twice adds nothing.
/// </summary>
internal static class SeedCommand
{
    /// <summary>The actor of the history events seed writes.</summary>
    public static readonly ChangeContext Actor = new("cli:seed", null);

    public static Command Create(CliConsole console, Func<IReadOnlyList<string>> currentSettings, ComposeService compose, Option<bool> verbose)
    {
        var count = new Option<long>("--count") { Description = "How many customers to create.", Required = true };
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long>() is < 1 or > int.MaxValue)
            {
                r.AddError("--count must be from 1 to 2147483647.");
            }
        });
        var seedValue = new Option<int?>("--seed-value") { Description = "Makes the run repeatable: the same value gives the same customers. Default: a random value." };
        var force = new Option<bool>("--force") { Description = "Seed even in the Production environment (refused there otherwise)." };
        var batchSize = ImportCommand.BatchSizeOption();
        var command = new Command(
            "seed",
            "Create realistic fake customers (unique emails, valid phones) for development and load tests, through the same " +
            "batched writer as import. Refused in the Production environment unless --force.")
        {
            count, seedValue, force, batchSize,
        };
        command.SetAction((result, ct) =>
        {
            var rows = result.GetValue(count);
            var seed = result.GetValue(seedValue) ?? Random.Shared.Next();
            var options = new ImportOptions(ImportConflict.Skip, DryRun: false, result.GetValue(batchSize));
            var forced = result.GetValue(force);
            return new ServiceHost(compose, currentSettings(), result.GetValue(verbose), console).RunToolAsync(
                "Seeding failed",
                migrate: true,
                (services, token) =>
                {
                    var environment = services.GetRequiredService<IHostEnvironment>();
                    if (environment.IsProduction() && !forced)
                    {
                        throw new InvalidOperationException("seed refuses to add fake customers in the Production environment; give --force if that is really meant.");
                    }

                    long done = 0;
                    return ImportCommand.RunAsync(
                        services, console, "seed", Counted(SeedCustomers.GenerateAsync(rows, seed, token)), options, Actor, reportPath: null, rows, () => done, token);

                    async IAsyncEnumerable<CustomerFileRow> Counted(IAsyncEnumerable<CustomerFileRow> source)
                    {
                        await foreach (var row in source)
                        {
                            done = row.Line;
                            yield return row;
                        }
                    }
                },
                ct);
        });
        return command;
    }
}
