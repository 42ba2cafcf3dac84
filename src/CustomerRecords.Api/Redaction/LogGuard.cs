using System.Collections;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CustomerRecords.Api.Redaction;

/// <summary>
/// Wraps every registered <see cref="ILoggerProvider"/> so that messages, structured values, scopes and
/// exception texts are scrubbed by <see cref="LogScrubber"/> before any provider sees them.
/// </summary>
internal static class LogGuard
{
    /// <summary>Replace each provider registration by a guarded one. Runs when the container is built, so providers added after AddLogRedaction are covered too.</summary>
    public static void WrapLoggerProviders(IServiceCollection services)
    {
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType != typeof(ILoggerProvider) || descriptor.IsKeyedService)
            {
                continue;
            }

            services[i] = ServiceDescriptor.Singleton<ILoggerProvider>(sp => descriptor switch
            {
                { ImplementationInstance: ILoggerProvider instance } => new GuardedLoggerProvider(instance, ownsInner: false),
                { ImplementationFactory: { } factory } => new GuardedLoggerProvider((ILoggerProvider)factory(sp), ownsInner: true),
                _ => new GuardedLoggerProvider((ILoggerProvider)ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!), ownsInner: true),
            });
        }
    }

    internal static object? Sanitize(object? value)
    {
        switch (value)
        {
            case null or bool or Enum or DateTime or DateTimeOffset or TimeSpan or Guid or float or double or decimal or byte or short:
                return value;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                return new GuardedState(pairs.Select(p => new KeyValuePair<string, object?>(p.Key, SanitizeValue(p.Key, p.Value))).ToList(),
                    LogScrubber.Scrub(value.ToString()));
            default:
                return SanitizeValue(null, value);
        }
    }

    private static object? SanitizeValue(string? key, object? value)
    {
        if (key == "{OriginalFormat}")
        {
            return value;
        }

        switch (value)
        {
            case null or bool or Enum or DateTime or DateTimeOffset or TimeSpan or Guid or float or double or decimal or byte or short:
                return value;
            case string s:
                return LogScrubber.Scrub(s);
            case IEnumerable sequence:
                var text = string.Join(", ", sequence.Cast<object?>().Select(o => Convert.ToString(o, CultureInfo.InvariantCulture)));
                var scrubbed = LogScrubber.Scrub(text);
                return scrubbed == text ? value : scrubbed;
            default:
                var original = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
                var clean = LogScrubber.Scrub(original);
                return clean == original ? value : clean;
        }
    }

    internal static Exception? Sanitize(Exception? exception)
    {
        if (exception is null)
        {
            return null;
        }

        var text = exception.ToString();
        var clean = LogScrubber.Scrub(text);
        return clean == text ? exception : new RedactedException(exception.GetType().FullName ?? "Exception", LogScrubber.Scrub(exception.Message), clean);
    }
}

/// <summary>Structured state after scrubbing; <see cref="ToString"/> is the scrubbed message.</summary>
internal sealed class GuardedState(IReadOnlyList<KeyValuePair<string, object?>> pairs, string message)
    : IReadOnlyList<KeyValuePair<string, object?>>
{
    public KeyValuePair<string, object?> this[int index] => pairs[index];

    public int Count => pairs.Count;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => pairs.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => message;
}

/// <summary>Stands in for a logged exception whose text contained personal data or secrets.</summary>
#pragma warning disable CA1032, CA1064 // Never thrown or caught; it only carries a scrubbed text to log providers.
internal sealed class RedactedException(string originalType, string message, string text) : Exception(message)
#pragma warning restore CA1032, CA1064
{
    public string OriginalType { get; } = originalType;

    public override string? StackTrace => null;

    public override string ToString() => text;
}

internal sealed class GuardedLoggerProvider(ILoggerProvider inner, bool ownsInner) : ILoggerProvider, ISupportExternalScope
{
    public ILogger CreateLogger(string categoryName) => new GuardedLogger(inner.CreateLogger(categoryName));

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (inner is ISupportExternalScope supportsScopes)
        {
            supportsScopes.SetScopeProvider(new GuardedScopeProvider(scopeProvider));
        }
    }

    public void Dispose()
    {
        if (ownsInner)
        {
            inner.Dispose();
        }
    }

    private sealed class GuardedLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull =>
            inner.BeginScope(LogGuard.Sanitize(state) ?? "");

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            var message = LogScrubber.Scrub(formatter(state, exception));
            var pairs = state is IEnumerable<KeyValuePair<string, object?>> structured
                ? ((GuardedState)LogGuard.Sanitize(structured)!).ToList()
                : [];
            inner.Log(logLevel, eventId, new GuardedState(pairs, message), LogGuard.Sanitize(exception), static (s, _) => s.ToString());
        }
    }

    private sealed class GuardedScopeProvider(IExternalScopeProvider inner) : IExternalScopeProvider
    {
        public void ForEachScope<TState>(Action<object?, TState> callback, TState state) =>
            inner.ForEachScope(static (scope, s) => s.callback(LogGuard.Sanitize(scope), s.state), (callback, state));

        public IDisposable Push(object? state) => inner.Push(state);
    }
}

/// <summary>Builds the container after wrapping logger providers (see <see cref="LogGuard"/>).</summary>
internal sealed class LogGuardServiceProviderFactory(ServiceProviderOptions options) : IServiceProviderFactory<IServiceCollection>
{
    public IServiceCollection CreateBuilder(IServiceCollection services)
    {
        LogGuard.WrapLoggerProviders(services);
        return services;
    }

    public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder) =>
        containerBuilder.BuildServiceProvider(options);
}
