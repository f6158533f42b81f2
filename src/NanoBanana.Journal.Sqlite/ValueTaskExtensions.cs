namespace NanoBanana.Journal.Sqlite;

internal static class ValueTaskExtensions
{
    public static ValueTask AsNonGeneric<T>(this ValueTask<T> task) => task.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(task.AsTask());
}
