using CustomerRecords.Api.Cli;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.Cli;

/// <summary>
/// A failed start inside another host (WebApplicationFactory) is rethrown as it is and leaves the app to that host:
/// the factory is still reading the app's services to wait for the start, so the command line must not dispose them.
/// </summary>
public sealed class InProcessStartFailureTests
{
    private sealed class Checked
    {
        public bool Valid { get; set; }
    }

    [Fact]
    public async Task AFailedServeRethrowsTheSettingsErrorAndLeavesTheAppsServicesToItsOwner()
    {
        WebApplication? app = null;
        using var error = new StringWriter();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => CommandLineApp.RunAsync(["serve"], builder =>
        {
            builder.Services.AddOptions<Checked>().Validate(o => o.Valid, "Checked:Valid is false").ValidateOnStart();
            app = builder.Build();
            return app;
        }, new CliConsole(TextWriter.Null, error, TextReader.Null)));

        Assert.Contains("Checked:Valid is false", failure.Message, StringComparison.Ordinal);
        Assert.NotNull(app);
        // What DeferredHost.StartAsync does after the app's Main has failed: resolve the lifetime to wait for the start.
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        Assert.False(lifetime.ApplicationStarted.IsCancellationRequested);
        await app.DisposeAsync();
    }
}
