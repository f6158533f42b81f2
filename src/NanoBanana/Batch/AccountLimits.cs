namespace NanoBanana.Batch;

/// <summary>
/// What the account allows: tasks running at once and images started per window (a minute on WaveSpeed). A batch
/// never exceeds either; a 429 lowers its concurrency further until the service accepts again.
/// </summary>
/// <param name="ConcurrentTasks">Tasks submitted and not yet finished, at most. At least 1.</param>
/// <param name="ImagesPerWindow">Submits started in any <see cref="Window"/>, at most. At least 1.</param>
public sealed record AccountLimits(int ConcurrentTasks, int ImagesPerWindow)
{
    /// <summary>The length of the rate window. Default one minute, as the providers publish it.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>WaveSpeedAI's default level: 3 concurrent tasks, 10 images a minute.</summary>
    public static AccountLimits WaveSpeedBronze { get; } = new(3, 10);

    /// <summary>WaveSpeedAI after a $100 top-up: 100 concurrent tasks, 500 images a minute.</summary>
    public static AccountLimits WaveSpeedSilver { get; } = new(100, 500);

    /// <summary>WaveSpeedAI after a $1,000 top-up: 2,000 concurrent tasks, 3,000 images a minute.</summary>
    public static AccountLimits WaveSpeedGold { get; } = new(2_000, 3_000);

    /// <summary>WaveSpeedAI after a $10,000 top-up: 5,000 concurrent tasks, 5,000 images a minute.</summary>
    public static AccountLimits WaveSpeedUltra { get; } = new(5_000, 5_000);

    /// <summary>Throws <see cref="ArgumentException"/> naming the property when a figure is out of range.</summary>
    public void Validate()
    {
        if (ConcurrentTasks < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ConcurrentTasks), ConcurrentTasks, "AccountLimits.ConcurrentTasks must be at least 1.");
        }

        if (ImagesPerWindow < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ImagesPerWindow), ImagesPerWindow, "AccountLimits.ImagesPerWindow must be at least 1.");
        }

        if (Window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Window), Window, "AccountLimits.Window must be positive.");
        }
    }
}
