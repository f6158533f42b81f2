using Microsoft.Extensions.Logging;
using NanoBanana.Batch;

namespace NanoBanana.Tests;

/// <summary>
/// Parts of the caller's that the SDK runs (HTTP handlers, the HttpClient it was given) can fail in ways no transport
/// error covers. Once a submit may have been accepted, such a failure must not cost the job: the caller gets the
/// prediction id, or is told that the submit may have been accepted. Real HTTP against the emulator.
/// </summary>
public class CallerComponentTests
{
    // A handler with a bug: throws on POSTs before or after sending them, or on every GET.
    private sealed class BuggyHandler(string when) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var post = request.Method == HttpMethod.Post;
            if ((post && when == "before submit") || (!post && when == "on polls"))
            {
                throw new InvalidOperationException("a bug in a handler");
            }

            if (!post && when == "timeout on polls")
            {
                // What HttpClient throws when its own Timeout elapses: not the caller's cancellation.
                throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.", new TimeoutException());
            }

            var response = await base.SendAsync(request, cancellationToken);
            return post && when == "after submit" ? throw new InvalidOperationException("a bug in a handler") : response;
        }
    }

    // An emulator and a client whose HttpClient goes through a BuggyHandler. A poll-dependent case runs its jobs for
    // 0.2-0.4 s (time scale 0.05), so the submit's answer does not already report them done.
    private sealed class Rig : IAsyncDisposable
    {
        private Rig(NanoBanana.Emulator.NanoBananaEmulator emulator, HttpClient http)
        {
            Emulator = emulator;
            Http = http;
            Client = new NanoBananaClient(Emu.Options(emulator), http);
        }

        public NanoBanana.Emulator.NanoBananaEmulator Emulator { get; }

        public HttpClient Http { get; }

        public NanoBananaClient Client { get; }

        public static async Task<Rig> StartAsync(string handler, bool polls = false) =>
            new(await Emu.StartAsync(timeScale: polls ? 0.05 : 0.001), new HttpClient(new BuggyHandler(handler)));

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            Http.Dispose();
            await Emulator.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_handler_that_fails_after_the_submit_left_makes_an_unknown_outcome_never_repeated()
    {
        await using var rig = await Rig.StartAsync("after submit");
        var (emulator, client) = (rig.Emulator, rig.Client);

        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Contains("a bug in a handler", ex.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(ex.InnerException);
        Assert.Equal(1, emulator.AcceptedSubmits); // accepted, and not sent again
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_handler_that_fails_before_anything_left_throws_its_own_exception()
    {
        await using var rig = await Rig.StartAsync("before submit");
        var (emulator, client) = (rig.Emulator, rig.Client);

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Equal(0, emulator.Count("submit"));
    }

    [Fact]
    public async Task A_handler_that_fails_on_polls_leaves_the_id_and_a_resume_collects_the_image()
    {
        await using var rig = await Rig.StartAsync("on polls", polls: true);
        var (emulator, client) = (rig.Emulator, rig.Client);

        var ex = await Assert.ThrowsAsync<NanoBananaException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        var job = emulator.Jobs.Single();
        Assert.Equal(job.Id, ex.PredictionId);
        Assert.IsType<InvalidOperationException>(ex.InnerException);
        Assert.Contains("ResumeAsync", ex.Message, StringComparison.Ordinal);

        // Checking the status once through the same client says the same.
        var operation = client.GetOperation(ex.PredictionId!, job.Model.Id);
        Assert.Equal(job.Id, (await Assert.ThrowsAsync<NanoBananaException>(() => operation.UpdateStatusAsync())).PredictionId);

        using var healthy = Emu.Client(emulator);
        var result = await healthy.ResumeAsync(ex.PredictionId!, job.Model.Id);
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task An_http_client_timeout_on_a_poll_is_not_the_callers_cancellation_and_leaves_the_id()
    {
        await using var rig = await Rig.StartAsync("timeout on polls", polls: true);
        var (emulator, client) = (rig.Emulator, rig.Client);

        var ex = await Assert.ThrowsAsync<NanoBananaException>(() => client.GenerateAsync(new ImageJob("a lamp")));
        Assert.Equal(emulator.Jobs.Single().Id, ex.PredictionId);
        Assert.IsType<TaskCanceledException>(ex.InnerException);
    }

    [Fact]
    public async Task A_client_disposed_while_its_submit_is_on_the_way_is_an_unknown_outcome_that_says_so()
    {
        await using var emulator = await Emu.StartAsync(o => o.SlowSubmitDelay = TimeSpan.FromSeconds(10));
        var client = new NanoBananaClient(Emu.Options(emulator));
        emulator.EnqueueFault(NanoBanana.Emulator.FaultKind.SlowSubmit, NanoBanana.Emulator.FaultTarget.Submit);
        var generating = client.GenerateAsync(new ImageJob("a lamp"));
        while (emulator.Count("submit") == 0)
        {
            await Task.Delay(5);
        }

        client.Dispose(); // an application shutting down while the submit is held
        var ex = await Assert.ThrowsAsync<SubmitOutcomeUnknownException>(() => generating.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("not by the caller's token", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("timed out", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, emulator.Count("submit"));
    }

    [Fact]
    public async Task An_http_client_disposed_mid_wait_leaves_the_id()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.05); // Nano Banana 2 runs 0.2-0.4 s
        var http = new HttpClient();
        using var client = new NanoBananaClient(Emu.Options(emulator), http);
        var accepted = new TaskCompletionSource();
        var progress = new Progress(() => accepted.TrySetResult());

        var generating = client.GenerateAsync(new ImageJob("a lamp") { PinnedTier = ImageTier.NanoBanana2 }, progress);
        await accepted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        http.Dispose(); // an application shutting down its HttpClient while the job runs

        var ex = await Assert.ThrowsAsync<NanoBananaException>(() => generating);
        Assert.Equal(emulator.Jobs.Single().Id, ex.PredictionId);
        Assert.IsType<ObjectDisposedException>(ex.InnerException);
    }

    [Fact]
    public async Task A_logger_that_throws_does_not_end_a_job()
    {
        await using var emulator = await Emu.StartAsync();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(new ThrowingLoggerProvider()).SetMinimumLevel(LogLevel.Trace));
        using var client = Emu.Client(emulator, loggers: loggers);

        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Theory]
    [InlineData("nanobanana.jobs.started")] // right after the submit was accepted
    [InlineData("nanobanana.job.estimated_cost")] // the same moment, a histogram
    [InlineData("nanobanana.polls")]
    [InlineData("nanobanana.jobs.completed")]
    [InlineData("nanobanana.job.duration")]
    public async Task A_metrics_listener_that_throws_costs_the_measurement_not_the_job(string instrument)
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.05); // a job of 0.2-0.4 s, so it is polled
        using var client = Emu.Client(emulator);
        using var listener = ThrowingListener(instrument);

        InThisTest.Value = true;
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        InThisTest.Value = false;

        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.True(listener.Thrown > 0, $"the listener never threw on {instrument}");
    }

    [Fact]
    public async Task A_metrics_listener_that_throws_on_completion_costs_nothing_in_a_resume_or_a_batch()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator);
        using var listener = ThrowingListener("nanobanana.jobs.completed");

        var accepted = await client.StartGenerationAsync(new ImageJob("a lamp"));
        InThisTest.Value = true;
        var resumed = await client.ResumeAsync(accepted.Id, accepted.Model.Id);
        Assert.Equal(accepted.Id, resumed.PredictionId);
        Assert.NotEmpty(await resumed.Images[0].GetBytesAsync());

        var journal = new InMemoryPredictionJournal();
        var results = new List<BatchItemResult>();
        await foreach (var r in client.RunBatchAsync([new BatchJob("k", new ImageJob("a mug"))], new BatchOptions { Journal = journal }))
        {
            results.Add(r);
        }

        InThisTest.Value = false;
        Assert.Equal(BatchOutcome.Completed, Assert.Single(results).Outcome);
        Assert.Equal(JournalState.Completed, Assert.Single(await journal.ReadAsync()).State);
        Assert.Equal(2, emulator.AcceptedSubmits);
        Assert.True(listener.Thrown >= 2, "the listener must have thrown on both completions");
    }

    // A tracing listener that throws when one of the SDK's spans starts or stops. ActivitySource calls listeners on the
    // SDK's own thread; before spans were guarded, one that threw as nanobanana.submit stopped (after the submit was
    // accepted) ended the call without the prediction id of a paid job.
    [Theory]
    [InlineData("nanobanana.route", "start")]
    [InlineData("nanobanana.route", "stop")]
    [InlineData("nanobanana.submit", "start")]
    [InlineData("nanobanana.submit", "stop")]
    [InlineData("nanobanana.poll", "start")]
    [InlineData("nanobanana.poll", "stop")]
    [InlineData("nanobanana.download", "start")]
    [InlineData("nanobanana.download", "stop")]
    [InlineData("nanobanana.generate", "start")]
    [InlineData("nanobanana.generate", "stop")]
    public async Task A_tracing_listener_that_throws_costs_the_span_not_the_job(string span, string when)
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.05);
        using var client = Emu.Client(emulator);
        var thrown = 0;
        var stopped = new List<System.Diagnostics.Activity>();
        void Throw(System.Diagnostics.Activity a, string moment)
        {
            if (InThisTest.Value && a.OperationName == span && moment == when)
            {
                Interlocked.Increment(ref thrown);
                throw new InvalidOperationException("a bug in a tracing listener");
            }
        }

        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name == NanoBanana.Diagnostics.NanoBananaTelemetry.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                InThisTest.Value ? System.Diagnostics.ActivitySamplingResult.AllData : System.Diagnostics.ActivitySamplingResult.None,
            ActivityStarted = a => Throw(a, "start"),
            ActivityStopped = a =>
            {
                if (InThisTest.Value)
                {
                    lock (stopped)
                    {
                        stopped.Add(a);
                    }
                }

                Throw(a, "stop");
            },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        InThisTest.Value = true;
        var result = await client.GenerateAsync(new ImageJob("a lamp"));
        var bytes = await result.Images[0].GetBytesAsync(); // the download span
        InThisTest.Value = false;

        Assert.NotEmpty(bytes);
        Assert.Equal(1, emulator.AcceptedSubmits);
        Assert.True(thrown > 0, $"the listener never threw as {span} {when}ed");

        // A failed start or stop does not leave its span current: the polls that follow are the generate span's children,
        // not the failed one's (the runtime makes a span current before its start listeners run, and puts the previous one
        // back only after its stop listeners ran).
        if (span is not ("nanobanana.generate" or "nanobanana.poll" or "nanobanana.download"))
        {
            System.Diagnostics.Activity[] spans;
            lock (stopped)
            {
                spans = [.. stopped];
            }

            var generate = Assert.Single(spans, s => s.OperationName == "nanobanana.generate");
            var polls = spans.Where(s => s.OperationName == "nanobanana.poll").ToList();
            Assert.NotEmpty(polls);
            Assert.All(polls, s => Assert.Equal(generate.SpanId, s.ParentSpanId));
        }
    }

    // A metrics listener that throws on one of the SDK's instruments, only inside this test's own flow (other tests share
    // the meter), and counts how often it did.
    private static ThrowingMeterListener ThrowingListener(string instrumentName) => new(instrumentName);

    private sealed class ThrowingMeterListener : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener;
        private int _thrown;

        public ThrowingMeterListener(string instrumentName)
        {
            _listener = new System.Diagnostics.Metrics.MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == NanoBanana.Diagnostics.NanoBananaTelemetry.Name && instrument.Name == instrumentName)
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, _, _, _) => Throw());
            _listener.SetMeasurementEventCallback<double>((_, _, _, _) => Throw());
            _listener.Start();
        }

        public int Thrown => Volatile.Read(ref _thrown);

        public void Dispose() => _listener.Dispose();

        private void Throw()
        {
            if (InThisTest.Value)
            {
                Interlocked.Increment(ref _thrown);
                throw new InvalidOperationException("a bug in a metrics listener");
            }
        }
    }

    private static readonly AsyncLocal<bool> InThisTest = new();

    // A logging provider with a bug: every write from "submitted" (event 2) on throws, so the first one that fails
    // comes right after the service accepted the job.
    private sealed class ThrowingLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider
    {
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger();

        public void Dispose()
        {
        }

        private sealed class Logger : Microsoft.Extensions.Logging.ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (eventId.Id >= 2)
                {
                    throw new InvalidOperationException("a bug in a logging provider");
                }
            }
        }
    }

    private sealed class Progress(Action report) : IProgress<Polling.GenerationProgress>
    {
        public void Report(Polling.GenerationProgress value) => report();
    }
}
