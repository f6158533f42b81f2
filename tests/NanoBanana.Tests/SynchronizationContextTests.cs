using Microsoft.Extensions.AI;
using NanoBanana.Batch;
using NanoBanana.Emulator;
using NanoBanana.Extensions.AI;
using NanoBanana.Journal.Sqlite;

namespace NanoBanana.Tests;

/// <summary>
/// The libraries never resume on the caller's <see cref="SynchronizationContext"/>: a WinForms, WPF or classic ASP.NET
/// app that blocks on a call (<c>.Result</c>) from its UI thread would deadlock on the first continuation that waits for
/// that thread. Each call runs with a context that counts what is posted to it, over real HTTP against the emulator.
/// Deterministic: it counts posts, it does not wait for a hang. CA2007 is on for src/ so the compiler keeps it so.
/// </summary>
public sealed class SynchronizationContextTests : IDisposable
{
    private readonly TempFolder _dir = new("nb-context-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task No_call_of_the_client_resumes_on_the_callers_context()
    {
        await using var emulator = await Emu.StartAsync(timeScale: 0.02);
        var client = Emu.Client(emulator, o =>
        {
            o.Provider = ApiProvider.WaveSpeed;
            o.Polling.CompletionTimesFile = Path.Combine(_dir.FullName, "times.json");
        });
        var png = Path.Combine(_dir.FullName, "face.png");
        File.WriteAllBytes(png, PngWriter.Gradient(16, 16, (200, 30, 30), (30, 30, 200)));
        ImageResult? kept = null;

        var posts = new Dictionary<string, int>
        {
            ["GenerateAsync"] = await PostsToCallerContext(async () => kept = await client.GenerateAsync(new ImageJob("a lamp")).ConfigureAwait(false)),
            ["EditAsync with a local image"] = await PostsToCallerContext(() => client.EditAsync(new ImageJob("a lamp") { ReferenceImages = [ReferenceImage.FromFile(png, ReferenceKind.Face)] })),
            ["SaveAsync"] = await PostsToCallerContext(() => kept!.Images[0].SaveAsync(Path.Combine(_dir.FullName, "out.png"))),
            ["GetBytesAsync"] = await PostsToCallerContext(() => kept!.Images[0].GetBytesAsync()),
            ["StartGenerationAsync"] = await PostsToCallerContext(() => client.StartGenerationAsync(new ImageJob("a mug"))),
            ["ResumeAsync"] = await PostsToCallerContext(() => client.ResumeAsync(kept!.PredictionId, kept.Model.Id)),
            ["IImageGenerator.GenerateAsync"] = await PostsToCallerContext(() => client.AsImageGenerator().GenerateAsync(new ImageGenerationRequest("a cup"), new ImageGenerationOptions { Count = 2 })),
            ["RunBatchAsync on SQLite"] = await PostsToCallerContext(async () =>
            {
                var journal = new SqlitePredictionJournal(Path.Combine(_dir.FullName, "journal.db"), "jobs");
                await foreach (var _ in client.RunBatchAsync([new BatchJob("a", new ImageJob("a chair")), new BatchJob("b", new ImageJob("a table"))], new BatchOptions { Journal = journal }).ConfigureAwait(false))
                {
                }
            }),
            ["NanoBananaEmulator.StartAsync and DisposeAsync"] = await PostsToCallerContext(async () => await (await NanoBananaEmulator.StartAsync().ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false)),
            ["DisposeAsync, saving the completion times"] = await PostsToCallerContext(async () => await client.DisposeAsync().ConfigureAwait(false)),
        };

        Assert.True(File.Exists(Path.Combine(_dir.FullName, "times.json")), "the completion times must have been written");
        Assert.Equal(1, emulator.Count("upload"));
        Assert.All(posts, p => Assert.True(p.Value == 0, $"{p.Key} posted {p.Value} continuation(s) to the caller's context"));
    }

    // Runs the call's synchronous part with a counting context current, as a UI thread would, then awaits the rest
    // without it. Anything the SDK awaits without ConfigureAwait(false) before its first real yield is posted there.
    private static Task<int> PostsToCallerContext(Func<Task> call) => Task.Run(async () =>
    {
        var context = new CountingContext();
        SynchronizationContext.SetSynchronizationContext(context);
        Task task;
        try
        {
            task = call();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(null);
        }

        await task.ConfigureAwait(false);
        return context.Posts;
    });

    // Counts posts and runs them on the thread pool, so a capture is seen and never hangs the test.
    private sealed class CountingContext : SynchronizationContext
    {
        private int _posts;

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            ThreadPool.QueueUserWorkItem(_ => d(state));
        }

        public override void Send(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            d(state);
        }
    }
}
