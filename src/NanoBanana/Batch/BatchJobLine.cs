namespace NanoBanana.Batch;

/// <summary>One line of a JSON-lines job file: the job, or why the line could not be read.</summary>
/// <param name="Line">The line number, from 1.</param>
/// <param name="Job">The job; null when the line could not be read.</param>
/// <param name="Error">Why the line could not be read, starting with "line N:".</param>
public sealed record BatchJobLine(int Line, BatchJob? Job, string? Error);
