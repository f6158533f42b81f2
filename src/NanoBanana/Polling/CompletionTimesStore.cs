using Microsoft.Extensions.Logging;
using NanoBanana.Diagnostics;

namespace NanoBanana.Polling;

/// <summary>
/// Keeps a client's completion times in <see cref="PollingOptions.CompletionTimesFile"/>: read once when the client is
/// built, written after every <see cref="SaveEvery"/> new observations (off the polling path) and when the client is
/// disposed. A file learned from another service, or one that cannot be read, is logged and ignored, never fatal: it is
/// a cache. Writes go to a temporary file that replaces the old one, so a crash mid-write leaves the old file whole.
/// </summary>
internal sealed class CompletionTimesStore : IDisposable, IAsyncDisposable
{
    /// <summary>New observations after which the file is written again.</summary>
    public const int SaveEvery = 16;

    private readonly string _path;
    private readonly LatencyStatistics _statistics;
    private readonly string _service;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private int _unsaved;
    private int _saving;
    private Task _background = Task.CompletedTask;
    private volatile bool _disposed;

    public CompletionTimesStore(string path, LatencyStatistics statistics, Uri service, TimeProvider time, ILogger logger)
    {
        _path = Path.GetFullPath(path);
        _statistics = statistics;
        _service = Service(service);
        _time = time;
        _logger = logger;
    }

    /// <summary>The service a document is for: scheme, host and port only (never a path, a query or user info).</summary>
    public static string Service(Uri baseUrl) => baseUrl.Scheme + "://" + baseUrl.Authority;

    /// <summary>Reads the file into the statistics, if it is there and is for this service; then starts counting.</summary>
    public void Load()
    {
        try
        {
            if (File.Exists(_path))
            {
                using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var contents = CompletionTimesFile.ReadAsync(stream, CancellationToken.None).GetAwaiter().GetResult();
                if (!string.Equals(contents.Service, _service, StringComparison.OrdinalIgnoreCase))
                {
                    Log.CompletionTimesOtherService(_logger, _path, contents.Service ?? "(none)", _service);
                }
                else
                {
                    foreach (var model in contents.Models)
                    {
                        _statistics.Import(model);
                    }

                    Log.CompletionTimesLoaded(_logger, contents.Waits, contents.Models.Count, _path, contents.SavedAt);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            Log.CompletionTimesUnreadable(_logger, _path, ex.Message);
        }

        _statistics.Recorded += OnRecorded;
    }

    private void OnRecorded()
    {
        // A wait that ends while the client is being disposed is saved by Dispose's own write, or not at all.
        if (Interlocked.Increment(ref _unsaved) >= SaveEvery && !_disposed && Interlocked.CompareExchange(ref _saving, 1, 0) == 0)
        {
            _background = Task.Run(async () =>
            {
                try
                {
                    await SaveAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    // Disposed meanwhile: Dispose wrote the file.
                }
                finally
                {
                    Volatile.Write(ref _saving, 0);
                }
            });
        }
    }

    /// <summary>Writes the file now (replacing it whole). Failures are logged, not thrown.</summary>
    public async Task SaveAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        var temporary = (string?)null;
        try
        {
            Interlocked.Exchange(ref _unsaved, 0);
            var target = ReplaceableFile.Resolve(_path);
            temporary = target + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                await CompletionTimesFile.WriteAsync(stream, _statistics, _service, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CompletionTimesNotSaved(_logger, _path, ex.Message);
            if (temporary is not null)
            {
                TryDelete(temporary);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stray temporary file is harmless.
        }
    }

    /// <summary>Stops counting, waits for a write under way, and writes what is new.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>As <see cref="Dispose"/>, without blocking a thread on the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _statistics.Recorded -= OnRecorded;
        try
        {
            await _background.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            // Logged by SaveAsync; the final write below tries again.
        }

        if (Volatile.Read(ref _unsaved) > 0)
        {
            await SaveAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _writing.Dispose();
    }
}
