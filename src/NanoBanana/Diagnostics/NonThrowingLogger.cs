using Microsoft.Extensions.Logging;

namespace NanoBanana.Diagnostics;

/// <summary>
/// The caller's logger, made unable to throw into the SDK. <c>Microsoft.Extensions.Logging</c> rethrows a provider's
/// exception once every provider has written; inside a wait, right after a submit was accepted, that would end the
/// call without the prediction id. A log line is worth less than a paid job, so a failing write is dropped.
/// </summary>
internal sealed class NonThrowingLogger(ILogger inner) : ILogger
{
    /// <summary>Wraps <paramref name="logger"/>, or returns null for null.</summary>
    public static ILogger? Wrap(ILogger? logger) => logger is null or NonThrowingLogger ? logger : new NonThrowingLogger(logger);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
    {
        try
        {
            return inner.BeginScope(state);
        }
        catch (Exception)
        {
            return null;
        }
    }

    public bool IsEnabled(LogLevel logLevel)
    {
        try
        {
            return inner.IsEnabled(logLevel);
        }
        catch (Exception)
        {
            return false;
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
        catch (Exception)
        {
            // Dropped: see the type's summary.
        }
    }
}
