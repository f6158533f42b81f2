using System.Globalization;
using Microsoft.Data.Sqlite;
using NanoBanana.Batch;

namespace NanoBanana.Journal.Sqlite;

/// <summary>
/// A batch journal in a SQLite file: the embedded default for one machine. Every step is one transaction
/// (<c>BEGIN IMMEDIATE</c>, so the budget check and its reservation cannot interleave with another process), in WAL mode
/// with full sync, so what was written before a submit is there after a crash or a power cut. Several processes on
/// one machine may share the file; for many machines use the PostgreSQL journal. The account's limits are kept in the
/// file too (<see cref="ISharedAccountGate"/>), so a worker restarted after a crash, or another process on the same
/// file, counts the submits already made in the current window.
/// </summary>
public sealed class SqlitePredictionJournal : PredictionJournalBase, ISharedAccountGate
{
    private const long MicrosPerUsd = 1_000_000;
    private readonly string _connectionString;
    private readonly string _batch;
    private readonly TimeProvider _time;

    private static readonly string[] KernelTrees = ["/dev/", "/proc/", "/sys/"];

    // A journal on /dev/null keeps nothing: every re-run would find it empty and submit, and pay for, every job again.
    // Devices and kernel files are refused by path (before and after following a link); .NET exposes no file type.
    private static void RefuseKernelTree(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        var target = info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } final ? final.FullName : full;
        if (KernelTrees.FirstOrDefault(t => full.StartsWith(t, StringComparison.Ordinal) || target.StartsWith(t, StringComparison.Ordinal)) is { } tree)
        {
            throw new IOException($"it is under {tree.TrimEnd('/')}, a tree of devices and kernel files, where nothing it records would be kept; give a file path (leave the journal out for one that lives in memory only).");
        }
    }

    /// <summary>Opens (or creates) the journal.</summary>
    /// <param name="path">The database file, e.g. <c>batch.db</c>.</param>
    /// <param name="batchId">The batch's name: its budget and keys are its own; the daily budget counts every batch in the file.</param>
    /// <param name="timeProvider">The clock for leases (default: the system clock).</param>
    /// <exception cref="IOException">The file cannot be created or opened as a journal (a folder that cannot be created,
    /// no permission, not a SQLite database, a path under <c>/dev</c>, <c>/proc</c> or <c>/sys</c>); the message names the
    /// path and the cause.</exception>
    public SqlitePredictionJournal(string path, string batchId = "default", TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(batchId);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 60 }.ToString();
        _batch = batchId;
        _time = timeProvider ?? TimeProvider.System;
        try
        {
            RefuseKernelTree(path);

            // SQLite creates the file but not its folder: a journal path like runs/2026-11/batch.db just works.
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }

            CreateSchema();
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            // Said once, with the path: SQLite's own "unable to open database file" names neither.
            throw new IOException($"The batch journal at '{path}' cannot be opened: {ex.Message}", ex);
        }
    }

    private void CreateSchema()
    {
        using var connection = Open();
        Execute(connection, null, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS nb_journal (
                batch TEXT NOT NULL,
                key TEXT NOT NULL,
                state INTEGER NOT NULL,
                worker TEXT,
                lease_until INTEGER NOT NULL DEFAULT 0,
                prediction_id TEXT,
                model_id TEXT,
                charge_micros INTEGER NOT NULL DEFAULT 0,
                day TEXT,
                output_path TEXT,
                error TEXT,
                updated INTEGER NOT NULL,
                PRIMARY KEY (batch, key));
            CREATE INDEX IF NOT EXISTS nb_journal_day ON nb_journal (day);
            CREATE INDEX IF NOT EXISTS nb_journal_worker ON nb_journal (worker);
            CREATE TABLE IF NOT EXISTS nb_submit_window (
                ticket INTEGER PRIMARY KEY AUTOINCREMENT,
                worker TEXT NOT NULL,
                started INTEGER NOT NULL,
                ended INTEGER);
            """);
    }

    /// <inheritdoc/>
    public ValueTask<(long? Ticket, TimeSpan RetryAfter)> TryEnterSubmitAsync(string workerId, AccountLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(limits);
        return ValueTask.FromResult(InTransaction(tx =>
        {
            var now = _time.GetUtcNow();

            // Forget submits a window past their end, and open tickets of workers long gone (ten windows). An open
            // ticket counts in the rate window until then, but on the wire (for concurrency) only for a window from its
            // start, as in the PostgreSQL journal.
            using (var prune = Command(tx, "DELETE FROM nb_submit_window WHERE ended < $windowStart OR (ended IS NULL AND started < $stale)"))
            {
                prune.Parameters.AddWithValue("$windowStart", (now - limits.Window).ToUnixTimeMilliseconds());
                prune.Parameters.AddWithValue("$stale", (now - (10 * limits.Window)).ToUnixTimeMilliseconds());
                prune.ExecuteNonQuery();
            }

            long counted, open, inFlight;
            DateTimeOffset? earliestEnd;
            using (var counts = Command(tx, """
                SELECT (SELECT COUNT(*) FROM nb_submit_window),
                       (SELECT COUNT(*) FROM nb_submit_window WHERE ended IS NULL AND started >= $windowStart),
                       (SELECT MIN(ended) FROM nb_submit_window),
                       (SELECT COUNT(*) FROM nb_journal WHERE state IN (1, 2) AND lease_until > $now)
                """))
            {
                counts.Parameters.AddWithValue("$windowStart", (now - limits.Window).ToUnixTimeMilliseconds());
                using var reader = counts.ExecuteReader();
                reader.Read();
                counted = reader.GetInt64(0);
                open = reader.GetInt64(1);
                earliestEnd = reader.IsDBNull(2) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2));
                inFlight = reader.GetInt64(3);
            }

            if (JournalRules.AccountGateWait(limits, counted, open, earliestEnd, inFlight, now) is { } wait)
            {
                return ((long?)null, wait);
            }

            using var insert = Command(tx, "INSERT INTO nb_submit_window (worker, started) VALUES ($worker, $now) RETURNING ticket");
            insert.Parameters.AddWithValue("$worker", workerId);
            return ((long?)(long)insert.ExecuteScalar()!, TimeSpan.Zero);
        }));
    }

    /// <inheritdoc/>
    public ValueTask LeaveSubmitAsync(long ticket, CancellationToken cancellationToken = default)
    {
        InTransaction(tx =>
        {
            using var command = Command(tx, "UPDATE nb_submit_window SET ended = $now WHERE ticket = $ticket");
            command.Parameters.AddWithValue("$ticket", ticket);
            return command.ExecuteNonQuery();
        });
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override ValueTask<(JournalClaim Claim, JournalEntry? Entry)> ClaimAsync(string key, string workerId, TimeSpan lease, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(InTransaction(tx =>
        {
            var current = Read(tx, key);
            var (claim, write) = JournalRules.Claim(current, key, workerId, lease, _time.GetUtcNow());
            if (write is not null)
            {
                Write(tx, write);
            }

            return (claim, current);
        }));

    /// <inheritdoc/>
    public override ValueTask<bool> BeginSubmitAsync(string key, string workerId, decimal reserveUsd, decimal? batchCapUsd, decimal? dailyCapUsd, DateOnly day, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(InTransaction(tx =>
        {
            var batch = Sum(tx, "batch = $batch AND key <> $key", key, day);
            var daily = Sum(tx, "day = $day AND NOT (batch = $batch AND key = $key)", key, day);
            if (!JournalRules.Fits(reserveUsd, batch, batchCapUsd, daily, dailyCapUsd))
            {
                return false;
            }

            Write(tx, JournalRules.Begin(Required(tx, key), workerId, reserveUsd, day));
            return true;
        }));

    /// <inheritdoc/>
    public override ValueTask RenewLeasesAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        InTransaction(tx =>
        {
            using var command = Command(tx, "UPDATE nb_journal SET lease_until = $until, updated = $now WHERE batch = $batch AND worker = $worker AND state IN (0, 1, 2)");
            command.Parameters.AddWithValue("$until", (_time.GetUtcNow() + lease).ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$worker", workerId);
            return command.ExecuteNonQuery();
        });
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override ValueTask<IReadOnlyList<JournalEntry>> ReadAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<JournalEntry>>(InTransaction(tx =>
        {
            using var command = Command(tx, "SELECT * FROM nb_journal WHERE batch = $batch ORDER BY key");
            using var reader = command.ExecuteReader();
            var entries = new List<JournalEntry>();
            while (reader.Read())
            {
                entries.Add(Map(reader));
            }

            return entries;
        }));

    /// <inheritdoc/>
    protected override ValueTask UpdateAsync(string key, Func<JournalEntry, JournalEntry> change, CancellationToken cancellationToken)
    {
        InTransaction(tx =>
        {
            var entry = change(Required(tx, key));
            Write(tx, entry);
            return entry;
        });
        return ValueTask.CompletedTask;
    }

    // Microsoft.Data.Sqlite is synchronous underneath, so each step runs to the end here and is returned completed.
    private T InTransaction<T>(Func<SqliteTransaction, T> work)
    {
        using var connection = Open();
        using var tx = connection.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: writers queue up here
        var result = work(tx);
        tx.Commit();
        return result;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, null, "PRAGMA synchronous = FULL;");
        return connection;
    }

    private JournalEntry? Read(SqliteTransaction tx, string key)
    {
        using var command = Command(tx, "SELECT * FROM nb_journal WHERE batch = $batch AND key = $key");
        command.Parameters.AddWithValue("$key", key);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Map(reader) : null;
    }

    private JournalEntry Required(SqliteTransaction tx, string key) =>
        Read(tx, key) ?? throw NotClaimed(key);

    private decimal Sum(SqliteTransaction tx, string where, string key, DateOnly day)
    {
        using var command = Command(tx, "SELECT COALESCE(SUM(charge_micros), 0) FROM nb_journal WHERE " + where);
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$day", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        return (long)command.ExecuteScalar()! / (decimal)MicrosPerUsd;
    }

    private void Write(SqliteTransaction tx, JournalEntry e)
    {
        using var command = Command(tx, """
            INSERT INTO nb_journal (batch, key, state, worker, lease_until, prediction_id, model_id, charge_micros, day, output_path, error, updated)
            VALUES ($batch, $key, $state, $worker, $lease, $prediction, $model, $charge, $day, $output, $error, $now)
            ON CONFLICT (batch, key) DO UPDATE SET state = excluded.state, worker = excluded.worker, lease_until = excluded.lease_until,
                prediction_id = excluded.prediction_id, model_id = excluded.model_id, charge_micros = excluded.charge_micros,
                day = excluded.day, output_path = excluded.output_path, error = excluded.error, updated = excluded.updated
            """);
        command.Parameters.AddWithValue("$key", e.Key);
        command.Parameters.AddWithValue("$state", (int)e.State);
        command.Parameters.AddWithValue("$worker", (object?)e.WorkerId ?? DBNull.Value);
        command.Parameters.AddWithValue("$lease", e.LeaseUntil.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$prediction", (object?)e.PredictionId ?? DBNull.Value);
        command.Parameters.AddWithValue("$model", (object?)e.ModelId ?? DBNull.Value);
        command.Parameters.AddWithValue("$charge", (long)decimal.Round(e.ChargeUsd * MicrosPerUsd));
        command.Parameters.AddWithValue("$day", e.Day == default ? DBNull.Value : e.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$output", (object?)e.OutputPath ?? DBNull.Value);
        command.Parameters.AddWithValue("$error", (object?)e.Error ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    private SqliteCommand Command(SqliteTransaction tx, string sql)
    {
        var command = tx.Connection!.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$batch", _batch);
        command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        return command;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? tx, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static JournalEntry Map(SqliteDataReader r) => new()
    {
        Key = r.GetString(r.GetOrdinal("key")),
        State = (JournalState)r.GetInt32(r.GetOrdinal("state")),
        WorkerId = Text(r, "worker"),
        LeaseUntil = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(r.GetOrdinal("lease_until"))),
        PredictionId = Text(r, "prediction_id"),
        ModelId = Text(r, "model_id"),
        ChargeUsd = r.GetInt64(r.GetOrdinal("charge_micros")) / (decimal)MicrosPerUsd,
        Day = Text(r, "day") is { } day ? DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture) : default,
        OutputPath = Text(r, "output_path"),
        Error = Text(r, "error"),
    };

    private static string? Text(SqliteDataReader r, string column)
    {
        var i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : r.GetString(i);
    }
}
