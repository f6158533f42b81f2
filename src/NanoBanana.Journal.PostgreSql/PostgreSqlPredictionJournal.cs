using Npgsql;
using NanoBanana.Batch;

namespace NanoBanana.Journal.PostgreSql;

/// <summary>
/// A batch journal in PostgreSQL, for many workers on many machines. A claim locks the job's row
/// (<c>FOR UPDATE SKIP LOCKED</c>: a row another worker is working on is skipped, not waited for) and takes a lease
/// that expires when its worker dies. Budget reservations and the account's rate and concurrency counters are
/// checked and written under one transaction-scoped advisory lock, so workers cannot overspend between them.
/// PostgreSQL does the distribution; there is no consensus code here.
/// </summary>
public sealed class PostgreSqlPredictionJournal : PredictionJournalBase, ISharedAccountGate, IAsyncDisposable, IDisposable
{
    private const long BudgetLock = 0x4E42_0001; // "NB" 1: budget reservations (and creating the tables)
    private const long AccountGateLock = 0x4E42_0002; // "NB" 2: the shared rate window and in-flight count
    private readonly NpgsqlDataSource _source;
    private readonly string _batch;
    private readonly TimeProvider _time;

    /// <summary>Connects and creates the tables when missing.</summary>
    /// <param name="connectionString">An Npgsql connection string, e.g. <c>Host=…;Database=…;Username=…</c>.</param>
    /// <param name="batchId">The batch's name: its keys and budget are its own; the daily budget and the account limits count every batch in the database.</param>
    /// <param name="timeProvider">The clock for leases (default: the system clock). Leases compare against this clock, so keep workers' clocks in sync (NTP).</param>
    /// <exception cref="IOException">The database cannot be reached or the tables cannot be created; the message names
    /// the host, port and database (never the password), and the Npgsql exception is inside.</exception>
    public PostgreSqlPredictionJournal(string connectionString, string batchId = "default", TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(batchId);
        _source = NpgsqlDataSource.Create(connectionString);
        _batch = batchId;
        _time = timeProvider ?? TimeProvider.System;
        try
        {
            CreateSchema();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            _source.Dispose();
            var where = new NpgsqlConnectionStringBuilder(connectionString);
            throw new IOException($"The batch journal (PostgreSQL at {where.Host}:{where.Port}, database {where.Database ?? where.Username}) cannot be opened: {ex.Message}", ex);
        }
    }

    private void CreateSchema()
    {
        using var connection = _source.OpenConnection();
        using var tx = connection.BeginTransaction();
        using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@lock)", connection, tx))
        {
            lockCommand.Parameters.AddWithValue("lock", BudgetLock); // creating the tables once, not racing
            lockCommand.ExecuteNonQuery();
        }

        using (var create = new NpgsqlCommand("""
            CREATE TABLE IF NOT EXISTS nb_journal (
                batch text NOT NULL,
                key text NOT NULL,
                state int NOT NULL,
                worker text,
                lease_until timestamptz NOT NULL DEFAULT 'epoch',
                prediction_id text,
                model_id text,
                charge_usd numeric(18, 6) NOT NULL DEFAULT 0,
                day date,
                output_path text,
                error text,
                updated timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (batch, key));
            CREATE INDEX IF NOT EXISTS nb_journal_day ON nb_journal (day);
            CREATE INDEX IF NOT EXISTS nb_journal_worker ON nb_journal (worker) WHERE state IN (0, 1, 2);
            -- An id with a NUL character, which a text column cannot hold, is kept here exactly (UTF-16, as .NET holds it).
            ALTER TABLE nb_journal ADD COLUMN IF NOT EXISTS prediction_id_exact bytea;
            CREATE TABLE IF NOT EXISTS nb_submit_window (
                ticket bigserial PRIMARY KEY,
                worker text NOT NULL,
                started timestamptz NOT NULL,
                ended timestamptz);
            """, connection, tx))
        {
            create.ExecuteNonQuery();
        }

        tx.Commit();
    }

    /// <inheritdoc/>
    public override async ValueTask<(JournalClaim Claim, JournalEntry? Entry)> ClaimAsync(string key, string workerId, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var txScope = tx.ConfigureAwait(false);
        JournalEntry? current;
        var select = Command(connection, tx, "SELECT * FROM nb_journal WHERE batch = @batch AND key = @key FOR UPDATE SKIP LOCKED");
        await using (select.ConfigureAwait(false))
        {
            select.Parameters.AddWithValue("key", key);
            current = await ReadOneAsync(select, cancellationToken).ConfigureAwait(false);
        }

        if (current is null)
        {
            // New, or locked by another worker's transaction right now.
            var fresh = JournalRules.Claim(null, key, workerId, lease, _time.GetUtcNow()).Write!;
            var insert = Command(connection, tx, """
                INSERT INTO nb_journal (batch, key, state, worker, lease_until) VALUES (@batch, @key, @state, @worker, @lease)
                ON CONFLICT (batch, key) DO NOTHING
                """);
            await using var insertScope = insert.ConfigureAwait(false);
            insert.Parameters.AddWithValue("key", key);
            insert.Parameters.AddWithValue("state", (int)fresh.State);
            insert.Parameters.AddWithValue("worker", workerId);
            insert.Parameters.AddWithValue("lease", fresh.LeaseUntil);
            var inserted = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return (inserted ? JournalClaim.Submit : JournalClaim.Busy, null);
        }

        var (claim, write) = JournalRules.Claim(current, key, workerId, lease, _time.GetUtcNow());
        if (write is not null)
        {
            await WriteAsync(connection, tx, write, cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (claim, current);
    }

    /// <inheritdoc/>
    public override async ValueTask<bool> BeginSubmitAsync(string key, string workerId, decimal reserveUsd, decimal? batchCapUsd, decimal? dailyCapUsd, DateOnly day, CancellationToken cancellationToken = default)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var txScope = tx.ConfigureAwait(false);
        await LockAsync(connection, tx, BudgetLock, cancellationToken).ConfigureAwait(false);

        decimal batch, daily;
        var sums = Command(connection, tx, """
            SELECT COALESCE(SUM(charge_usd) FILTER (WHERE batch = @batch AND key <> @key), 0),
                   COALESCE(SUM(charge_usd) FILTER (WHERE day = @day AND NOT (batch = @batch AND key = @key)), 0)
            FROM nb_journal
            """);
        await using (sums.ConfigureAwait(false))
        {
            sums.Parameters.AddWithValue("key", key);
            sums.Parameters.AddWithValue("day", day);
            var reader = await sums.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            (batch, daily) = (reader.GetDecimal(0), reader.GetDecimal(1));
        }

        if (!JournalRules.Fits(reserveUsd, batch, batchCapUsd, daily, dailyCapUsd))
        {
            return false;
        }

        var current = await RequiredAsync(connection, tx, key, cancellationToken).ConfigureAwait(false);
        await WriteAsync(connection, tx, JournalRules.Begin(current, workerId, reserveUsd, day), cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc/>
    public override async ValueTask RenewLeasesAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = Command(connection, null, "UPDATE nb_journal SET lease_until = @until, updated = now() WHERE batch = @batch AND worker = @worker AND state IN (0, 1, 2)");
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.AddWithValue("until", _time.GetUtcNow() + lease);
        command.Parameters.AddWithValue("worker", workerId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async ValueTask<IReadOnlyList<JournalEntry>> ReadAsync(CancellationToken cancellationToken = default)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = Command(connection, null, "SELECT * FROM nb_journal WHERE batch = @batch ORDER BY key");
        await using var commandScope = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        var entries = new List<JournalEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(Map(reader));
        }

        return entries;
    }

    /// <inheritdoc/>
    public async ValueTask<(long? Ticket, TimeSpan RetryAfter)> TryEnterSubmitAsync(string workerId, AccountLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var now = _time.GetUtcNow();
        var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var txScope = tx.ConfigureAwait(false);
        await LockAsync(connection, tx, AccountGateLock, cancellationToken).ConfigureAwait(false);

        // Forget submits a window past their end, and open tickets of workers long gone (ten windows). An open ticket
        // counts in the rate window until then, but on the wire (for concurrency) only for a window from its start: a
        // live worker's submit is in flight as its journal row (Submitting, under a live lease) from a moment after the
        // ticket, and a killed worker's should not hold a slot for ten windows after its lease has run out.
        var prune = Command(connection, tx, "DELETE FROM nb_submit_window WHERE ended < @windowStart OR (ended IS NULL AND started < @stale)");
        await using (prune.ConfigureAwait(false))
        {
            prune.Parameters.AddWithValue("windowStart", now - limits.Window);
            prune.Parameters.AddWithValue("stale", now - (10 * limits.Window));
            await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        long counted, open, inFlight;
        DateTimeOffset? oldestEnd;
        var counts = Command(connection, tx, """
            SELECT (SELECT COUNT(*) FROM nb_submit_window),
                   (SELECT COUNT(*) FROM nb_submit_window WHERE ended IS NULL AND started >= @windowStart),
                   (SELECT MIN(ended) FROM nb_submit_window),
                   (SELECT COUNT(*) FROM nb_journal WHERE state IN (1, 2) AND lease_until > @now)
            """);
        await using (counts.ConfigureAwait(false))
        {
            counts.Parameters.AddWithValue("now", now);
            counts.Parameters.AddWithValue("windowStart", now - limits.Window);
            var reader = await counts.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            counted = reader.GetInt64(0);
            open = reader.GetInt64(1);
            oldestEnd = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2);
            inFlight = reader.GetInt64(3);
        }

        if (JournalRules.AccountGateWait(limits, counted, open, oldestEnd, inFlight, now) is { } wait)
        {
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return (null, wait);
        }

        long ticket;
        var insert = Command(connection, tx, "INSERT INTO nb_submit_window (worker, started) VALUES (@worker, @now) RETURNING ticket");
        await using (insert.ConfigureAwait(false))
        {
            insert.Parameters.AddWithValue("worker", workerId);
            insert.Parameters.AddWithValue("now", now);
            ticket = (long)(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (ticket, TimeSpan.Zero);
    }

    /// <inheritdoc/>
    public async ValueTask LeaveSubmitAsync(long ticket, CancellationToken cancellationToken = default)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = Command(connection, null, "UPDATE nb_submit_window SET ended = @now WHERE ticket = @ticket");
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.AddWithValue("now", _time.GetUtcNow());
        command.Parameters.AddWithValue("ticket", ticket);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _source.DisposeAsync();

    /// <inheritdoc/>
    public void Dispose() => _source.Dispose();

    /// <inheritdoc/>
    protected override async ValueTask UpdateAsync(string key, Func<JournalEntry, JournalEntry> change, CancellationToken cancellationToken)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var txScope = tx.ConfigureAwait(false);
        var current = await RequiredAsync(connection, tx, key, cancellationToken).ConfigureAwait(false);
        await WriteAsync(connection, tx, change(current), cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<JournalEntry> RequiredAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string key, CancellationToken cancellationToken)
    {
        var select = Command(connection, tx, "SELECT * FROM nb_journal WHERE batch = @batch AND key = @key FOR UPDATE");
        await using var selectScope = select.ConfigureAwait(false);
        select.Parameters.AddWithValue("key", key);
        return await ReadOneAsync(select, cancellationToken).ConfigureAwait(false)
            ?? throw NotClaimed(key);
    }

    private static async Task<JournalEntry?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Map(reader) : null;
    }

    private async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, JournalEntry e, CancellationToken cancellationToken)
    {
        var command = Command(connection, tx, """
            UPDATE nb_journal SET state = @state, worker = @worker, lease_until = @lease, prediction_id = @prediction,
                prediction_id_exact = @exact, model_id = @model,
                charge_usd = @charge, day = @day, output_path = @output, error = @error, updated = now()
            WHERE batch = @batch AND key = @key
            """);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.AddWithValue("key", e.Key);
        command.Parameters.AddWithValue("state", (int)e.State);
        command.Parameters.AddWithValue("worker", (object?)e.WorkerId ?? DBNull.Value);
        command.Parameters.AddWithValue("lease", e.LeaseUntil);
        // A text column refuses NUL: such an id is written readable (NUL as U+FFFD) and kept exactly beside it.
        var hasNul = e.PredictionId?.Contains('\0', StringComparison.Ordinal) == true;
        command.Parameters.AddWithValue("prediction", (object?)(hasNul ? e.PredictionId!.Replace('\0', '\uFFFD') : e.PredictionId) ?? DBNull.Value);
        command.Parameters.AddWithValue("exact", hasNul ? System.Text.Encoding.Unicode.GetBytes(e.PredictionId!) : DBNull.Value);
        command.Parameters.AddWithValue("model", (object?)e.ModelId ?? DBNull.Value);
        command.Parameters.AddWithValue("charge", e.ChargeUsd);
        command.Parameters.AddWithValue("day", e.Day == default ? DBNull.Value : e.Day);
        command.Parameters.AddWithValue("output", (object?)e.OutputPath ?? DBNull.Value);
        command.Parameters.AddWithValue("error", (object?)e.Error ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // Takes a transaction-scoped advisory lock: one worker at a time reserves budget, or enters the shared rate window.
    private static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long lockId, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@lock)", connection, tx);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("lock", lockId);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql)
    {
        var command = new NpgsqlCommand(sql, connection, tx);
        command.Parameters.AddWithValue("batch", _batch);
        return command;
    }

    private static JournalEntry Map(NpgsqlDataReader r) => new()
    {
        Key = r.GetString(r.GetOrdinal("key")),
        State = (JournalState)r.GetInt32(r.GetOrdinal("state")),
        WorkerId = Text(r, "worker"),
        LeaseUntil = r.GetFieldValue<DateTimeOffset>(r.GetOrdinal("lease_until")),
        PredictionId = Exact(r) ?? Text(r, "prediction_id"),
        ModelId = Text(r, "model_id"),
        ChargeUsd = r.GetDecimal(r.GetOrdinal("charge_usd")),
        Day = r.IsDBNull(r.GetOrdinal("day")) ? default : r.GetFieldValue<DateOnly>(r.GetOrdinal("day")),
        OutputPath = Text(r, "output_path"),
        Error = Text(r, "error"),
    };

    private static string? Exact(NpgsqlDataReader r)
    {
        var i = r.GetOrdinal("prediction_id_exact");
        return r.IsDBNull(i) ? null : System.Text.Encoding.Unicode.GetString(r.GetFieldValue<byte[]>(i));
    }

    private static string? Text(NpgsqlDataReader r, string column)
    {
        var i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : r.GetString(i);
    }
}
