using System.Collections.Concurrent;
using System.Globalization;
using NanoBanana.Catalog;
using NanoBanana.Routing;

namespace NanoBanana.Polling;

/// <summary>
/// What waiting has taught about each model's completion times, thread-safe. Every wait contributes what polling can
/// actually see: the completion happened between the last "still running" answer and the first terminal one (an
/// interval), or after the last answer when the wait ended first (right-censored), or at a plausible
/// <c>executionTime</c> the service reported. The distribution is estimated from these without imputing points
/// (<see cref="IntervalCensoredEstimator"/>), and feeds the optimal poll plans of <see cref="AdaptivePollSchedule"/> and
/// the tier policy's Speed priority (<see cref="ILatencyEstimator"/>).
/// </summary>
internal sealed class LatencyStatistics : ILatencyEstimator
{
    // The plan is recomputed when the estimate has moved by more than this (Kolmogorov–Smirnov distance).
    private const double ReplanDistance = 0.05;

    // Observations of this client's own after which restored ones are no longer on trial (see Import).
    private const int RestoredTrial = 64;

    // Observations from after a detected change that the estimate rests on when the older ones are dropped.
    private const int MinKeptAfterChange = 16;

    // Once the service is seen to have changed, the catalog's range is evidently not where it runs now: the prior keeps
    // only this share of its weight (enough for its floor to keep every time possible).
    private const double PriorAfterChange = 0.1;

    // Bounds on the settings: a window is an array per model; weights beyond a million observations mean nothing more.
    internal const int MinWindow = 8;
    internal const int MaxWindow = 100_000;
    internal const double MaxWeight = 1_000_000;

    private readonly ConcurrentDictionary<string, ModelState> _models = new(StringComparer.OrdinalIgnoreCase);
    private readonly int _window;
    private readonly double _halfLife;
    private readonly double _priorWeight;

    /// <summary>Creates empty statistics.</summary>
    /// <param name="window">Observations remembered per model.</param>
    /// <param name="halfLife">Observations after which an observation counts half (recency weighting).</param>
    /// <param name="priorWeight">How many observations the catalog's latency range is worth.</param>
    public LatencyStatistics(int window = 1000, double halfLife = 64, double priorWeight = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, MinWindow);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(window, MaxWindow);
        if (!(halfLife is >= 1 and <= MaxWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(halfLife), halfLife, $"The half-life must be between 1 and {MaxWeight.ToString("N0", CultureInfo.InvariantCulture)} observations.");
        }

        if (!(priorWeight is > 0 and <= MaxWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(priorWeight), priorWeight, $"The prior's weight must be positive and at most {MaxWeight.ToString("N0", CultureInfo.InvariantCulture)} observations.");
        }
        _window = window;
        _halfLife = halfLife;
        _priorWeight = priorWeight;
    }

    /// <summary>Observations needed for <see cref="TryGetExpectedLatency"/> to answer. Default 5.</summary>
    public int MinSamplesForEstimate { get; init; } = 5;

    /// <summary>How many observations exist for a model (completed waits, and waits that ended first).</summary>
    public int Count(ImageModel model) => _models.TryGetValue(model.Id, out var m) ? m.Count : 0;

    /// <inheritdoc />
    public bool TryGetExpectedLatency(ImageModel model, out TimeSpan latency)
    {
        latency = default;
        if (!_models.TryGetValue(model.Id, out var m) || m.Count < MinSamplesForEstimate)
        {
            return false;
        }

        latency = TimeSpan.FromSeconds(m.Estimate(model, this).Quantile(0.5));
        return true;
    }

    /// <summary>The job completed in (<paramref name="lower"/>, <paramref name="upper"/>] seconds after its submit.</summary>
    internal void RecordInterval(ImageModel model, double lower, double upper)
    {
        if (!(upper > 0) || !double.IsFinite(upper))
        {
            return;
        }

        State(model).Add(new CompletionObservation(Math.Clamp(lower, 0, upper), upper));
        Recorded?.Invoke();
    }

    /// <summary>
    /// A wait saw the job complete in (<paramref name="lower"/>, <paramref name="upper"/>] seconds after its submit, and
    /// the service reported that it ran for <paramref name="reported"/> seconds (null: not reported). The "still running"
    /// answer at <paramref name="lower"/> came from a poll whose round trip took <paramref name="lowerRoundTrip"/> seconds.
    /// </summary>
    /// <remarks>
    /// A reported time narrows the interval to a point only once the model's reports have earned it. What the service
    /// means by <c>executionTime</c> is not documented: it may leave out the queue, or be seconds where milliseconds are
    /// expected, and such a report still falls inside a wide interval (a first poll that sees the job done has a lower
    /// bound of 0) and would teach completion times that are too short, so that the plan polls early and ever more.
    /// Every job that was seen running tests the reports. A report earlier than a "still running" answer is refuted
    /// (beyond what the clocks allow: the service looked at the job somewhere within that poll's round trip, and a job's
    /// start is placed half a typical round trip before its submit's answer): from then on this model's reports are not
    /// used, and the observations already taken from them become the intervals polling saw. A report that agrees with the
    /// answers counts towards <see cref="ReportConfirmations"/>, after which reports inside the interval are used.
    /// </remarks>
    /// <returns>What became of the report.</returns>
    internal ReportedTimeUse RecordCompletion(ImageModel model, double lower, double upper, double? reported, double lowerRoundTrip = 0)
    {
        var state = State(model);
        var use = reported is { } r && double.IsFinite(r) && r > 0
            ? state.JudgeReport(lower, upper, r, MinReportTolerance + ((Math.Max(0, lowerRoundTrip) + TypicalRoundTrip()) / 2))
            : ReportedTimeUse.NotReported;
        if (use == ReportedTimeUse.Used)
        {
            state.AddReported(new CompletionObservation(reported!.Value, reported.Value), new CompletionObservation(Math.Clamp(lower, 0, upper), upper));
            Recorded?.Invoke();
        }
        else
        {
            RecordInterval(model, lower, upper);
        }

        return use;
    }

    /// <summary>Reports that must agree with what polling saw before a model's reported times are used.</summary>
    internal const int ReportConfirmations = 8;

    // How far (seconds) a report may fall before a "still running" answer without refuting it, besides the round trips:
    // a report may be rounded, and timers and threads add their own.
    private const double MinReportTolerance = 0.01;

    /// <summary>Whether a model's reported execution times are used (confirmed, and never refuted).</summary>
    internal bool ReportsTrusted(ImageModel model) => _models.TryGetValue(model.Id, out var m) && m.ReportsTrusted;

    /// <summary>The job completed at a known time (a sync-mode answer).</summary>
    internal void RecordExact(ImageModel model, double seconds) => RecordInterval(model, seconds, seconds);

    /// <summary>The wait ended (deadline, cancellation) while the job was still running <paramref name="lower"/> seconds after its submit.</summary>
    internal void RecordCensored(ImageModel model, double lower)
    {
        if (lower > 0 && double.IsFinite(lower))
        {
            State(model).Add(new CompletionObservation(lower, double.PositiveInfinity));
            Recorded?.Invoke();
        }
    }

    /// <summary>
    /// What a job's poll answers are judged against (<see cref="RecordPollOutcome"/>): the model's estimate as the job
    /// starts to poll. Not the estimate of each answer's moment: when many jobs start together, their first completions
    /// are their shortest, and an estimate that has learned from those underrates the rest.
    /// </summary>
    internal JudgeBasis? Basis(ImageModel model) => State(model).Basis(model, this);

    /// <summary>
    /// One poll's answer for a job still running <paramref name="since"/> seconds after its start: done or not
    /// <paramref name="at"/> seconds after it, judged against <paramref name="basis"/> by the change detector
    /// (<see cref="ChangeDetector"/>).
    /// </summary>
    internal void RecordPollOutcome(ImageModel model, JudgeBasis? basis, double since, double at, bool done)
    {
        if (basis is not null && _models.TryGetValue(model.Id, out var state))
        {
            state.Judge(basis, since, at, done);
        }
    }

    /// <summary>An estimate to judge poll answers against, and the judging epoch it was made in (every drop starts one).</summary>
    internal sealed record JudgeBasis(CompletionTimeDistribution Estimate, int Epoch);

    /// <summary>Called after each observation is recorded, outside every lock (the file store counts them).</summary>
    internal Action? Recorded { get; set; }

    /// <summary>
    /// Every model's observations, oldest first, with what is known of its reported times, for models that have any
    /// (what a restart should keep).
    /// </summary>
    internal IReadOnlyList<ModelTimes> Export() =>
        [.. _models.Select(m => m.Value.Snapshot(m.Key)).Where(m => m.Waits.Length > 0).OrderBy(m => m.Id, StringComparer.OrdinalIgnoreCase)];

    /// <summary>
    /// Adds observations learned earlier (another process, a saved file) for a model id, oldest first, as older than
    /// everything this instance has seen itself: recency weighting then favours what is seen from now on. The newest
    /// observations are kept when they do not all fit the window.
    /// </summary>
    /// <remarks>
    /// <para>
    /// If the service has changed since (another day, another region, a new model version), the first poll answers
    /// stray from what the restored observations predict, and the change detector drops them at once: the model goes on
    /// as a fresh client's would, from the catalog's prior and what it saw itself.
    /// </para>
    /// <para>
    /// What was learned of the model's reported times comes too: confirmations add to this instance's, a refutation
    /// holds here as well, and restored observations taken from reports go back to their intervals if this instance
    /// (or the document) refutes the reports.
    /// </para>
    /// </remarks>
    internal void Import(ModelTimes learned) =>
        _models.GetOrAdd(learned.Id, _ => new ModelState(_window)).Prepend(learned);

    /// <summary>As <see cref="Import(ModelTimes)"/>, for observations alone.</summary>
    internal void Import(string modelId, ReadOnlySpan<CompletionObservation> olderFirst) =>
        Import(ModelTimes.Plain(modelId, olderFirst.ToArray()));

    /// <summary>
    /// A poll planned to reach the service at some time reached it <paramref name="deviation"/> seconds later (negative:
    /// earlier), by the round-trip estimate. The spread of these is the timing noise of polls (the timer's lateness, the
    /// round trip's variation), so the estimator can read bounds closer than that as one.
    /// </summary>
    internal void RecordPollTiming(double deviation) => _timing.Add(deviation);

    /// <summary>
    /// The timing noise of polls: the spread (90th minus 10th percentile) of how far the newest polls landed from their
    /// planned time, in seconds; 0 until <see cref="MinTimingSamples"/> polls were timed.
    /// </summary>
    internal double PollTimingSpread() =>
        _timing.Sorted(MinTimingSamples) is { } values ? values[(int)(0.9 * (values.Length - 1))] - values[(int)(0.1 * (values.Length - 1))] : 0;

    /// <summary>
    /// A poll cycle (delay, then one poll) took <paramref name="seconds"/> longer than its delay: the timer's lateness
    /// plus the round trip. A fixed loop at interval i really polls every i + this.
    /// </summary>
    internal void RecordPollCycleOverhead(double seconds)
    {
        if (seconds >= 0)
        {
            _overhead.Add(seconds);
        }
    }

    /// <summary>The mean overhead of the newest poll cycles (seconds); 0 until <see cref="MinTimingSamples"/> were seen.</summary>
    internal double PollCycleOverhead()
    {
        var values = _overhead.Snapshot();
        return values.Length < MinTimingSamples ? 0 : values.Average();
    }

    /// <summary>A poll took <paramref name="seconds"/> from send to parsed answer.</summary>
    internal void RecordRoundTrip(double seconds)
    {
        if (seconds >= 0)
        {
            _roundTrips.Add(seconds);
        }
    }

    /// <summary>
    /// The median round trip of the newest polls (seconds), or 0 before <see cref="MinRoundTrips"/> were seen. A job's
    /// first poll is sent half of it ahead of its plan (later polls use the job's own last round trip).
    /// </summary>
    internal double TypicalRoundTrip() => _roundTrips.Sorted(MinRoundTrips) is { } values ? values[values.Length / 2] : 0;

    private const int MinRoundTrips = 4;
    private readonly Recent _roundTrips = new(64);

    /// <summary>How many polls were timed against their plan (for tests).</summary>
    internal int PollTimingCount => _timing.Count;

    private const int MinTimingSamples = 16;
    private readonly Recent _timing = new(256);
    private readonly Recent _overhead = new(256);

    // The newest finite values of one measurement, thread-safe.
    private sealed class Recent(int capacity)
    {
        private readonly double[] _values = new double[capacity];
        private int _next;
        private int _count;

        public int Count
        {
            get
            {
                lock (_values)
                {
                    return _count;
                }
            }
        }

        public void Add(double value)
        {
            if (!double.IsFinite(value))
            {
                return;
            }

            lock (_values)
            {
                _values[_next] = value;
                _next = (_next + 1) % _values.Length;
                _count = Math.Min(_count + 1, _values.Length);
            }
        }

        public double[] Snapshot()
        {
            lock (_values)
            {
                return _values[.._count];
            }
        }

        // The values in ascending order, or null when there are fewer than minimum.
        public double[]? Sorted(int minimum)
        {
            var values = Snapshot();
            if (values.Length < minimum)
            {
                return null;
            }

            Array.Sort(values);
            return values;
        }
    }

    /// <summary>The current estimate for a model (the catalog prior alone when nothing was observed).</summary>
    internal CompletionTimeDistribution GetEstimate(ImageModel model) => State(model).Estimate(model, this);

    /// <summary>The poll plan for a model and a polling setting, recomputed only when the estimate has moved.</summary>
    internal PollPlan GetPlan(ImageModel model, PollingOptions options) => State(model).Plan(model, options, this).Plan;

    /// <summary>
    /// Called once per job before its first poll: the time (seconds after the submit) at which this job should poll
    /// first to explore below the plan's first poll, or 0 to follow the plan (<see cref="FirstPollProbe"/>).
    /// </summary>
    /// <param name="model">The job's model.</param>
    /// <param name="options">The polling options in use.</param>
    /// <param name="elapsed">Seconds since the job started now (a probe already past is no probe).</param>
    internal double TakeFirstPollProbe(ImageModel model, PollingOptions options, double elapsed = 0)
    {
        var state = State(model);
        var probe = state.Plan(model, options, this).Probe;
        if (!state.Probes.TryTake(probe > elapsed))
        {
            return 0;
        }

        Interlocked.Increment(ref _probesSent);
        return probe;
    }

    private int _probesSent;

    /// <summary>How many first polls were probes (for tests and the benchmark).</summary>
    internal int ProbesSent => Volatile.Read(ref _probesSent);

    /// <summary>The observations a model's estimate is made from, oldest first (for tests and the benchmark).</summary>
    internal CompletionObservation[] Observations(ImageModel model) => State(model).Observations();

    private ModelState State(ImageModel model) => _models.GetOrAdd(model.Id, _ => new ModelState(_window));

    private sealed class ModelState(int capacity)
    {
        private readonly CompletionObservation[] _ring = new CompletionObservation[capacity];
        private readonly object _gate = new();
        private int _count;
        private int _next;
        private int _version;
        private CompletionTimeDistribution? _estimate;
        private ImageModel? _estimateModel;
        private int _estimateVersion = -1;
        private PlanEntry[] _plans = [];

        public int Count => Volatile.Read(ref _count);

        public void Add(CompletionObservation observation)
        {
            lock (_gate)
            {
                _ring[_next] = observation;
                _next = (_next + 1) % _ring.Length;
                _count = Math.Min(_count + 1, _ring.Length);
                _recorded++;
                if (_restored > 0 && _recorded - _recordedAtRestore >= RestoredTrial)
                {
                    _restored = 0; // borne out: from now on they are observations like any other
                }

                if (_changeFrom >= 0 && _recorded - _changeFrom >= MinKeptAfterChange)
                {
                    // The service changed: forget what came before the change.
                    _count = (int)Math.Min(_count, _recorded - _changeFrom);
                    _changeFrom = -1;
                    _restored = 0;
                    Interlocked.Increment(ref _changePoints);
                    _epoch++;
                }

                Volatile.Write(ref _version, _version + 1);
            }
        }

        public JudgeBasis Basis(ImageModel model, LatencyStatistics owner)
        {
            lock (_gate)
            {
                return new JudgeBasis(EstimateLocked(model, owner), _epoch);
            }
        }

        public void Judge(JudgeBasis basis, double since, double at, bool done)
        {
            lock (_gate)
            {
                // A job that started before the last change detected was planned and judged by what is now forgotten;
                // while a change waits for observations from after it, there is nothing to judge.
                if (basis.Epoch != _epoch || _changeFrom >= 0)
                {
                    return;
                }

                _changeFrom = _changes.Judge(since, at, done, basis.Estimate, _count, _recorded);
                if (_changeFrom >= 0 && _restored > 0)
                {
                    // Restored observations that the service no longer bears out: forget them at once and go on as a
                    // fresh client would (the catalog's prior at its full weight), with what this client saw itself.
                    _count = (int)Math.Min(_count, _ownAtRestore + (_recorded - _recordedAtRestore));
                    _restored = 0;
                    _changeFrom = -1;
                    _epoch++;
                    Interlocked.Increment(ref _restoredDrops);
                    Volatile.Write(ref _version, _version + 1);
                }
            }
        }

        public void Prepend(ModelTimes learned)
        {
            lock (_gate)
            {
                var olderFirst = learned.Waits;
                var own = Ordered();
                var take = Math.Min(olderFirst.Length, _ring.Length - own.Length);
                if (take > 0 && _restored > 0)
                {
                    _restored += take; // still on trial with an earlier import: one trial for both
                }
                else if (take > 0)
                {
                    _restored = take;
                    _ownAtRestore = own.Length;
                    _recordedAtRestore = _recorded;
                }

                var all = new CompletionObservation[take + own.Length];
                olderFirst.AsSpan(olderFirst.Length - take).CopyTo(all);
                own.CopyTo(all, take);
                all.CopyTo(_ring, 0);
                _count = all.Length;
                _next = all.Length % _ring.Length;

                // Restored waits taken from reports, numbered as if recorded before everything this instance saw (their
                // age is their distance from the newest), ahead of this instance's own in the queue.
                var skipped = olderFirst.Length - take;
                var restored = new Queue<(long Recorded, CompletionObservation Interval)>();
                foreach (var report in learned.FromReports.Where(r => r.Index >= skipped && r.Index < olderFirst.Length).OrderBy(r => r.Index))
                {
                    restored.Enqueue((RecordedAt(report.Index - skipped), report.Interval));
                }

                foreach (var report in _fromReports)
                {
                    restored.Enqueue(report);
                }

                while (restored.Count > _ring.Length)
                {
                    restored.Dequeue();
                }

                _fromReports = restored;
                _reportsConfirmed = (int)Math.Min(int.MaxValue, (long)_reportsConfirmed + Math.Max(0, learned.ReportsConfirmed));
                if (learned.ReportsRefuted || _reportsRefuted)
                {
                    _reportsRefuted = true;
                    RevertReportedLocked();
                }

                Volatile.Write(ref _version, _version + 1);
            }
        }

        public ModelTimes Snapshot(string id)
        {
            lock (_gate)
            {
                var waits = Ordered();
                var fromReports = new List<ReportedWait>();
                foreach (var report in _fromReports)
                {
                    if (IndexOf(report.Recorded) is { } index)
                    {
                        fromReports.Add(new ReportedWait(index, report.Interval));
                    }
                }

                return new ModelTimes(id, waits, fromReports, _reportsConfirmed, _reportsRefuted);
            }
        }

        // Reported execution times that agreed with a "still running" answer, and whether one was refuted (see
        // RecordCompletion): counted under _gate.
        private int _reportsConfirmed;
        private bool _reportsRefuted;

        public bool ReportsTrusted
        {
            get
            {
                lock (_gate)
                {
                    return !_reportsRefuted && _reportsConfirmed >= ReportConfirmations;
                }
            }
        }

        // Observations taken from reports, by their number among all recorded, with the interval polling saw: a
        // refutation puts the intervals back (reports that were wrong all along, or went wrong, teach nothing).
        private Queue<(long Recorded, CompletionObservation Interval)> _fromReports = new();

        public void AddReported(CompletionObservation exact, CompletionObservation interval)
        {
            lock (_gate)
            {
                // Refuted by another wait since this report was judged: the interval, as for any report from now on.
                if (_reportsRefuted)
                {
                    Add(interval);
                    return;
                }

                Add(exact);
                _fromReports.Enqueue((_recorded, interval));
                while (_fromReports.Count > _ring.Length)
                {
                    _fromReports.Dequeue();
                }
            }
        }

        // Under _gate. Where the observation recorded as number `recorded` sits among the kept ones, oldest first (0 ..
        // _count - 1), or null when it is no longer kept. The newest observation is _recorded's; those before it sit one
        // place further back each, as long as they are still kept (_count), whatever was imported before them or
        // dropped after a change. RecordedAt is the inverse.
        private int? IndexOf(long recorded)
        {
            var age = _recorded - recorded + 1;
            return age <= _count ? (int)(_count - age) : null;
        }

        private long RecordedAt(int index) => _recorded - (_count - index) + 1;

        // Under _gate.
        private void RevertReportedLocked()
        {
            while (_fromReports.TryDequeue(out var report))
            {
                if (IndexOf(report.Recorded) is { } index)
                {
                    // The kept observations end at _next - 1 in the ring (Ordered reads them the same way).
                    _ring[(_next - _count + index + _ring.Length) % _ring.Length] = report.Interval;
                }
            }

            Volatile.Write(ref _version, _version + 1);
        }

        public ReportedTimeUse JudgeReport(double lower, double upper, double reported, double tolerance)
        {
            lock (_gate)
            {
                if (_reportsRefuted)
                {
                    return ReportedTimeUse.Distrusted;
                }

                // Only a job seen running can test a report: the service said "not done" at lower.
                var tested = lower > tolerance;
                if (tested && reported < lower - tolerance)
                {
                    _reportsRefuted = true;
                    RevertReportedLocked();
                    return ReportedTimeUse.Refuted;
                }

                if (tested && reported <= upper + tolerance)
                {
                    _reportsConfirmed++;
                }

                if (!(reported > lower && reported <= upper))
                {
                    return ReportedTimeUse.Outside;
                }

                return _reportsConfirmed >= ReportConfirmations ? ReportedTimeUse.Used : ReportedTimeUse.Unproven;
            }
        }

        private readonly ChangeDetector _changes = new();
        private int _changePoints;

        // Judging epochs: a job's poll answers count only within the epoch its first poll saw (every drop starts one).
        private int _epoch;

        // Restored observations (the oldest) still on record, how many of this client's own came before them, the count
        // of recorded observations when they were restored, and how many times restored ones were dropped.
        private int _restored;
        private int _ownAtRestore;
        private long _recordedAtRestore;
        private int _restoredDrops;

        public int RestoredDrops => Volatile.Read(ref _restoredDrops);

        // Every observation ever recorded (the change detector places a change by this count), and where a detected
        // change began by that count (-1: none pending). The older observations are dropped once MinKeptAfterChange
        // were recorded since: dropped at once, the estimate would rest on one or two waits and the catalog's range.
        private long _recorded;
        private long _changeFrom = -1;

        public int ChangePoints => Volatile.Read(ref _changePoints);

        public FirstPollProbe.Limiter Probes { get; } = new();

        public CompletionTimeDistribution Estimate(ImageModel model, LatencyStatistics owner)
        {
            lock (_gate)
            {
                return EstimateLocked(model, owner);
            }
        }

        public CompletionObservation[] Observations()
        {
            lock (_gate)
            {
                return Ordered();
            }
        }

        // The newest _count observations (at most newest of them), oldest first.
        private CompletionObservation[] Ordered(int newest = int.MaxValue)
        {
            var count = Math.Min(_count, newest);
            var ordered = new CompletionObservation[count];
            for (var i = 0; i < count; i++)
            {
                ordered[i] = _ring[(_next - count + i + _ring.Length) % _ring.Length];
            }

            return ordered;
        }

        private CompletionTimeDistribution EstimateLocked(ImageModel model, LatencyStatistics owner)
        {
            if (_estimate is not null && _estimateVersion == _version && ReferenceEquals(_estimateModel, model))
            {
                return _estimate;
            }

            var ordered = Ordered();

            _estimate = IntervalCensoredEstimator.Estimate(ordered, model.TypicalLatencyMin.TotalSeconds, model.TypicalLatencyMax.TotalSeconds, _changePoints > 0 ? PriorAfterChange * owner._priorWeight : owner._priorWeight, owner._halfLife, owner.PollTimingSpread());
            _estimateVersion = _version;
            _estimateModel = model;
            return _estimate;
        }

        public PlanEntry Plan(ImageModel model, PollingOptions options, LatencyStatistics owner)
        {
            var key = PlanKey.Of(options);
            var plans = Volatile.Read(ref _plans);
            PlanEntry? entry = null;
            foreach (var p in plans)
            {
                if (p.Key == key && ReferenceEquals(p.Model, model))
                {
                    entry = p;
                    break;
                }
            }

            // The fast path of every poll: nothing new since the plan was made.
            if (entry is not null && entry.Version == Volatile.Read(ref _version))
            {
                return entry;
            }

            // Someone else is refreshing: the current plan is good enough for this poll.
            if (entry is not null && !Monitor.TryEnter(_gate))
            {
                return entry;
            }

            if (entry is null)
            {
                Monitor.Enter(_gate);
            }

            try
            {
                var estimate = EstimateLocked(model, owner);
                PlanEntry fresh;
                if (entry is not null && CompletionTimeDistribution.Distance(entry.Basis, estimate) <= ReplanDistance)
                {
                    fresh = entry with { Version = _version };
                }
                else
                {
                    var plan = options.PollBudgetInterval is { } budget
                        ? OptimalPollPlanner.ForBudget(estimate, budget.TotalSeconds + owner.PollCycleOverhead(), PollingOptions.BudgetShare, key.Min, key.Max)
                        : OptimalPollPlanner.ForLag(estimate, options.TargetMeanLag.TotalSeconds, key.Min, key.Max);
                    fresh = new PlanEntry(key, model, plan, estimate, _version, 0);
                    Interlocked.Increment(ref owner._replans);
                    owner.PlanMade?.Invoke(plan);
                }

                // The observations changed, so whether the stretch before the first poll is explored may have too.
                if (options.PollBudgetInterval is null)
                {
                    var first = fresh.Plan.Delay(0);
                    fresh = fresh with { Probe = FirstPollProbe.Time(first, fresh.Basis.Cdf(first), Ordered(FirstPollProbe.Window), key.Min) };
                }

                _plans = [.. _plans.Where(p => !(p.Key == key && ReferenceEquals(p.Model, model))), fresh];
                return fresh;
            }
            finally
            {
                Monitor.Exit(_gate);
            }
        }
    }

    private int _replans;

    /// <summary>Called with every poll plan computed, under the model's lock (for the benchmark's diagnostics).</summary>
    internal Action<PollPlan>? PlanMade { get; set; }

    /// <summary>How many times a poll plan was computed (for tests and the benchmark).</summary>
    internal int Replans => Volatile.Read(ref _replans);

    private readonly record struct PlanKey(double Target, double Budget, double Min, double Max)
    {
        public static PlanKey Of(PollingOptions o) =>
            new(o.TargetMeanLag.TotalSeconds, o.PollBudgetInterval?.TotalSeconds ?? 0, o.MinInterval.TotalSeconds, o.MaxInterval.TotalSeconds);
    }

    // Probe: when a job should poll first to explore below the plan's first poll (seconds), or 0 (see FirstPollProbe).
    private sealed record PlanEntry(PlanKey Key, ImageModel Model, PollPlan Plan, CompletionTimeDistribution Basis, int Version, double Probe);

    /// <summary>How many times a model's restored observations were found stale and dropped (for tests and the benchmark).</summary>
    internal int RestoredDrops(ImageModel model) => _models.TryGetValue(model.Id, out var m) ? m.RestoredDrops : 0;

    /// <summary>How many times a model's service was found to have changed and older observations were dropped.</summary>
    internal int ChangePoints(ImageModel model) => _models.TryGetValue(model.Id, out var m) ? m.ChangePoints : 0;
}

/// <summary>What became of a reported execution time (<see cref="LatencyStatistics.RecordCompletion"/>).</summary>
internal enum ReportedTimeUse
{
    /// <summary>The service reported none.</summary>
    NotReported,

    /// <summary>Used as the completion time.</summary>
    Used,

    /// <summary>Not used: too few of the model's reports agreed with what polling saw yet.</summary>
    Unproven,

    /// <summary>Not used: outside the interval polling saw.</summary>
    Outside,

    /// <summary>Not used: earlier than a "still running" answer; the model's reports are not used from now on.</summary>
    Refuted,

    /// <summary>Not used: an earlier report of the model's was refuted.</summary>
    Distrusted,
}
