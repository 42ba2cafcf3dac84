using System.Diagnostics;
using System.Net;
using CustomerRecords.Tests.Caching;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace CustomerRecords.Tests.Hosting;

/// <summary>
/// SIGTERM to the real service process while a write is in flight: the write still completes and is
/// acknowledged, and the process exits cleanly. The write is held in flight by a SQLite write lock the
/// test owns.
/// </summary>
[Trait("Category", "Faults")]
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task SigtermLetsAnInFlightWriteFinishThenExitsCleanly()
    {
        var directory = TempDirectory.ForRun();
        var database = Path.Combine(directory, "customers.db");
        var port = FreePort.Get();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "CustomerRecords.Api.dll"),
            "--urls", $"http://127.0.0.1:{port}",
            $"--ConnectionStrings:Customers=Data Source={database}",
            "--Logging:LogLevel:Default=Warning",
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var service = Process.Start(start)!;
        var output = service.StandardOutput.ReadToEndAsync();
        var errors = service.StandardError.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
            await Eventually.WithinAsync(TimeSpan.FromSeconds(60), "the service answers /health/live", async () =>
            {
                try
                {
                    return (await client.GetAsync("/health/live")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false; // not listening yet
                }
            });

            // Hold the database's write lock so the create waits inside the service.
            await using var locker = new SqliteConnection($"Data Source={database};Pooling=False");
            await locker.OpenAsync();
            await using var transaction = await locker.BeginTransactionAsync();
            await using (var take = locker.CreateCommand())
            {
                take.Transaction = (SqliteTransaction)transaction;
                take.CommandText = "DELETE FROM customers WHERE id = -1";
                await take.ExecuteNonQueryAsync();
            }

            var email = Json.UniqueEmail("draining");
            var create = client.PostAsync("/customers", Json.Body(new { name = "In flight at shutdown", email }));
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(create.IsCompleted, "the create should be waiting for the write lock");

            using (var term = Process.Start("kill", ["-TERM", service.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term!.WaitForExitAsync();
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(service.HasExited, "the service must wait for its in-flight request");
            await transaction.RollbackAsync();

            var response = await create;
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await service.WaitForExitAsync(exit.Token);
            Assert.Equal(0, service.ExitCode);

            // The acknowledged write is in the database.
            await using var check = new SqliteConnection($"Data Source={database};Pooling=False");
            await check.OpenAsync();
            await using var count = check.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM customers WHERE email = $email";
            count.Parameters.AddWithValue("$email", email);
            Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            if (!service.HasExited)
            {
                service.Kill(entireProcessTree: true);
            }

            await Task.WhenAll(output, errors);
        }
    }
}
