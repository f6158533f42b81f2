namespace NanoBanana.Tests;

/// <summary>
/// A folder of its own under the system's temporary folder for one test, deleted with everything in it when disposed
/// (<c>using var folder = new TempFolder("nb-batch-");</c>). Pooled SQLite connections are closed first, since a batch
/// journal's connection would otherwise keep its file open where that stops a deletion.
/// </summary>
internal sealed class TempFolder : IDisposable
{
    /// <summary>Creates the folder, its name starting with <paramref name="prefix"/>.</summary>
    public TempFolder(string prefix) => FullName = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The folder's full path.</summary>
    public string FullName { get; }

    /// <summary>Deletes the folder and everything in it.</summary>
    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(FullName, recursive: true);
    }
}
