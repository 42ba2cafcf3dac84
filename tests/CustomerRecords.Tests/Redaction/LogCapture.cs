using System.Collections.Concurrent;
using System.Text;
using CustomerRecords.Tests.Operations;
using Microsoft.Extensions.Logging;

namespace CustomerRecords.Tests.Redaction;

/// <summary>Collects everything log providers are given: messages, structured values, scopes and exception texts.</summary>
internal sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<Entry> _entries = new();
    private IExternalScopeProvider? _scopes;

    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Text);

    public IReadOnlyCollection<Entry> Entries => _entries;

    public string AllText => string.Join('\n', _entries.Select(e => e.Text));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder(formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var pair in pairs)
                {
                    text.Append(" | ").Append(pair.Key).Append('=').Append(pair.Value);
                }
            }

            owner._scopes?.ForEachScope((scope, sb) =>
            {
                sb.Append(" | scope ").Append(scope);
                if (scope is IEnumerable<KeyValuePair<string, object?>> scopePairs)
                {
                    foreach (var pair in scopePairs)
                    {
                        sb.Append(' ').Append(pair.Key).Append('=').Append(pair.Value);
                    }
                }
            }, text);

            if (exception is not null)
            {
                text.Append(" | exception ").Append(exception);
            }

            owner._entries.Enqueue(new Entry(category, logLevel, eventId, text.ToString()));
        }
    }
}
