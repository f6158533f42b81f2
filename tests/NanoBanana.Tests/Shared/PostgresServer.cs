using System.Diagnostics;
using Npgsql;

namespace NanoBanana.Soak;

/// <summary>
/// A private PostgreSQL 15 server for the tests: initdb in a temp folder, started as the postgres system user on a
/// free loopback port, stopped (and the folder removed) when the tests end, also after a failure. No mocks.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _folder;
    private int _databases;

    public PostgresServer()
    {
        _folder = Directory.CreateTempSubdirectory("nb-pg-").FullName;
        Run("chown", "postgres", _folder);
        Port = LoopbackPort.Free();
        RunAsPostgres($"{Bin}/initdb", "-D", $"{_folder}/data", "-A", "trust", "-U", "nb", "--no-sync");
        RunAsPostgres($"{Bin}/pg_ctl", "-D", $"{_folder}/data", "-l", $"{_folder}/log", "-w", "-t", "60",
            "-o", $"-p {Port} -k {_folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start");
    }

    public int Port { get; }

    /// <summary>A connection string to the server's postgres database.</summary>
    public string Admin => $"Host=127.0.0.1;Port={Port};Username=nb;Database=postgres;Pooling=false";

    /// <summary>Creates a fresh database and returns its connection string.</summary>
    public string NewDatabase(string hint)
    {
        var name = $"{new string(hint.Where(char.IsLetterOrDigit).Take(20).ToArray()).ToLowerInvariant()}_{Interlocked.Increment(ref _databases)}";
        using var connection = new NpgsqlConnection(Admin);
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        command.ExecuteNonQuery();
        return $"Host=127.0.0.1;Port={Port};Username=nb;Database={name}";
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            RunAsPostgres($"{Bin}/pg_ctl", "-D", $"{_folder}/data", "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static void RunAsPostgres(params string[] args) => Run("runuser", ["-u", "postgres", "--", .. args]);

    private static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The server is the tests', not the machine's: a developer's LANG (tr_TR.UTF-8, say, with no such locale
        // installed) made initdb refuse to start, and every PostgreSQL test failed in its fixture.
        start.Environment["LC_ALL"] = "C.UTF-8";
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {error.Result} {output.Result}");
        }
    }
}
