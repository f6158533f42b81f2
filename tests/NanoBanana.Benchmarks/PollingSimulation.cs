using System.Globalization;
using NanoBanana.Catalog;
using NanoBanana.Emulator;
using NanoBanana.Polling;
using static NanoBanana.Benchmarks.BenchmarkText;

namespace NanoBanana.Benchmarks;

/// <summary>
/// The polling harness without HTTP: the SDK's estimator and planner replayed over draws from the emulator's latency
/// profiles, deterministic (fixed seeds), with the same cold/warm windows and 8 jobs in flight on one clock (a job is
/// submitted when a slot frees; its observation reaches the statistics when a poll sees it done, so long jobs report
/// late, as over HTTP; NB_ORDERED=1 for the older model where it arrives 8 submits later). Seconds, no round trip. For
/// fast iteration on the estimator; the HTTP harness (<c>-- polling</c>) is the measurement of record. Environment:
/// NB_SEEDS (runs averaged, default 5), NB_ONLY (filter "shape:tier"), NB_HALFLIFE / NB_PRIOR (override the options),
/// NB_EXACT (feed exact completion times instead of intervals, to separate censoring from sampling error), NB_REPORTED
/// (the service reports an execution time of this factor times the true one: 1 honest, 0.001 seconds read as
/// milliseconds, 0.7 the run without its queue; NB_REPORTED_SHIFT adds seconds to each report; NB_REPORTED_SWITCH: honest
/// reports before that job), NB_JITTER
/// (each job's plan stretched by a random factor within ±this share, to test whether varied poll times help the
/// estimate), NB_NOISE (one clock only: each poll reaches the service off its planned time by a normal deviation whose
/// p10–p90 spread is this many seconds, as timer lateness and round trips do over HTTP; the deviations are reported to
/// the statistics as the client does), NB_FREEZE (learn nothing: the catalog prior's plan throughout), NB_TARGET (the
/// lag target, seconds), NB_HULL (the optimum over randomised schedules: see <see cref="PollingOptimum.HullPolls"/>), NB_DEBUG (the
/// final estimate and plan of seed 0), NB_SWEEP (with NB_DEBUG: that estimate's plans for lag targets 0.40–0.80 s replayed over
/// the truth against both optima, to tell a wrong lag multiplier from a wrong shape), NB_ORACLE (with NB_DEBUG: a histogram of
/// fresh draws from the truth, smoothed as the estimator smooths for several effective counts and not at all, planned for
/// the lag target and replayed over the truth, to tell the smoothing's cost from the likelihood step's), NB_PERSEED (each
/// seed's warm lag, to find a run caught in the first-poll trap), NB_CHANGES (each change point detected, where, and how
/// many observations were kept; with drift, each seed's two windows after the change), NB_NOPROBE (no probes below the first poll; see
/// <see cref="FirstPollProbe"/>), NB_WINDOWS (instead of simulating: the HTTP harness's own cold and warm jobs, with the
/// share of fixed 1 s's requests that the optimum's plan sends on each), NB_WC (each seed's cold and warm requests as
/// shares of what the optimum's plan for the lag target sends on the same jobs, as the HTTP harness judges warm against cold),
/// NB_VSFIXED (each row with the fixed loop beside it, as NB_ADVERSARY prints it: fixed 1 s for the default, 2 s for
/// frugal), NB_ADVERSARY (other shapes instead of the harness's four: near-constant and very wide lognormals, a rare long queue, and
/// a service three times faster or slower than the catalog says; each row with the fixed loop beside it), NB_RATIOS
/// (instead of simulating: the optimum's plan for the lag target over each shape's truth, and its longest gap between
/// two polls as a share of the time already waited), NB_PERJOB (seed 0's first 40 jobs: each one's true time, first
/// poll and plan, then the first 60 jobs' requests and lags).
/// </summary>
internal static class PollingSimulation
{
    public static int Run()
    {
        var shapes = LatencyShapes.Selected;
        if (Environment.GetEnvironmentVariable("NB_RATIOS") is not null)
        {
            foreach (var (name, profile) in shapes)
            {
                foreach (var tier in LatencyShapes.Tiers)
                {
                    var model = ModelCatalog.Default[tier];
                    var plan = PollingOptimum.PlanForTarget(profile, model);
                    var times = plan.PollTimes().Take(40).ToArray();
                    var ratios = times.Zip(times.Skip(1), (a, b) => (a, b, r: (b - a) / a)).ToArray();
                    var worstR = ratios.MaxBy(x => x.r);
                    Console.WriteLine(F($"{name} {tier}: {1 + plan.ExpectedPolls:0.00} requests at lag {plan.ExpectedLag:0.000}; max gap/elapsed {worstR.r:0.00} ({worstR.a:0.00}->{worstR.b:0.00}); times {string.Join(" ", times.Take(16).Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))}"));
                }
            }

            return 0;
        }

        if (Environment.GetEnvironmentVariable("NB_WINDOWS") is not null)
        {
            return Windows(shapes);
        }

        var seeds = int.Parse(Environment.GetEnvironmentVariable("NB_SEEDS") ?? "5", CultureInfo.InvariantCulture);
        var only = Environment.GetEnvironmentVariable("NB_ONLY");
        Console.WriteLine("| distribution | model | strategy | cold req | cold lag | warm req | warm lag | optimum at warm lag | vs optimum | after drift req | lag | optimum | vs |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var worst = 0.0;
        foreach (var (name, profile) in shapes)
        {
            foreach (var tier in LatencyShapes.Tiers)
            {
                if (only is not null && !$"{name}:{tier}".Contains(only, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var model = ModelCatalog.Default[tier];
                foreach (var frugal in new[] { false, true })
                {
                    double cr = 0, cl = 0, wr = 0, wl = 0, dr = 0, dl = 0;
                    PollPlan? refPlan = null; // NB_WC's yardstick, made once per cell
                    for (var seed = 0; seed < seeds; seed++)
                    {
                        var jobs = Simulate(profile, model, frugal, seed, LatencyShapes.Drifts(profile) ? 230 : 130);
                        cr += jobs.Take(30).Average(j => j.Requests) / seeds;
                        cl += jobs.Take(30).Average(j => j.Lag) / seeds;
                        wr += jobs.Skip(30).Take(100).Average(j => j.Requests) / seeds;
                        wl += jobs.Skip(30).Take(100).Average(j => j.Lag) / seeds;
                        if (Environment.GetEnvironmentVariable("NB_WC") is not null && !frugal)
                        {
                            refPlan ??= PollingOptimum.PlanForTarget(profile, model);
                            double On(IEnumerable<Job> js) => 1 + refPlan.Replay(js.Select(j => j.Truth).ToArray()).Polls;
                            Console.Write(F($" s{seed}: cold {100 * jobs.Take(30).Average(j => j.Requests) / On(jobs.Take(30)):0}% warm {100 * jobs.Skip(30).Take(100).Average(j => j.Requests) / On(jobs.Skip(30).Take(100)):0}%"));
                        }

                        if (Environment.GetEnvironmentVariable("NB_PERSEED") is not null && !frugal)
                        {
                            Console.Write(F($" s{seed}:{jobs.Skip(30).Take(100).Average(j => j.Lag):0.00}"));
                        }

                        if (jobs.Length > 130 && Environment.GetEnvironmentVariable("NB_CHANGES") is not null && !frugal)
                        {
                            Console.WriteLine(F($"    seed {seed}: jobs 130-180 {jobs.Skip(130).Take(50).Average(j => j.Requests):0.00} req lag {jobs.Skip(130).Take(50).Average(j => j.Lag):0.000}; 180-230 {jobs.Skip(180).Take(50).Average(j => j.Requests):0.00} req lag {jobs.Skip(180).Take(50).Average(j => j.Lag):0.000}"));
                        }

                        if (jobs.Length > 130)
                        {
                            dr += jobs.Skip(180).Take(50).Average(j => j.Requests) / seeds;
                            dl += jobs.Skip(180).Take(50).Average(j => j.Lag) / seeds;
                        }
                    }

                    var optimum = frugal ? Fixed(profile, model, 2) : Optimum(profile, model, 0, wl);
                    var vs = (wr / optimum) - 1;
                    var drift = "| | | |";
                    if (dr > 0 && !frugal)
                    {
                        var after = Optimum(profile, model, 200, dl);
                        drift = F($"{dr:0.00} | {dl:0.000} | {after:0.00} | {Signed(100 * ((dr / after) - 1))}% |");
                        worst = Math.Max(worst, (dr / after) - 1);
                    }

                    if (!frugal)
                    {
                        worst = Math.Max(worst, vs);
                    }

                    Console.WriteLine(F($"| {name} | {tier} | {(frugal ? "frugal" : "default")} | {cr:0.00} | {cl:0.000} | {wr:0.00} | {wl:0.000} | {optimum:0.00} | {Signed(100 * vs)}% | {drift}"));
                    if (Environment.GetEnvironmentVariable("NB_ADVERSARY") is not null || Environment.GetEnvironmentVariable("NB_VSFIXED") is not null)
                    {
                        var (fr, fl) = FixedLoop(profile, model, frugal ? 2 : 1);
                        Console.WriteLine(F($"|   | | fixed {(frugal ? 2 : 1)} s | | | {fr:0.00} | {fl:0.000} | | {Signed(100 * ((wr / fr) - 1))}% requests, lag ×{wl / fl:0.00} | | | | |"));
                    }
                }
            }
        }

        Console.WriteLine(F($"worst excess over the optimum: {100 * worst:0}%"));
        return 0;
    }

    // NB_ORDERED: the older model, where each job's observation arrives 8 submits later whatever its length.
    private static readonly bool Ordered = Environment.GetEnvironmentVariable("NB_ORDERED") is not null;

    // NB_NOPROBE: no probes below the first poll (FirstPollProbe), to compare.
    private static readonly bool NoProbe = Environment.GetEnvironmentVariable("NB_NOPROBE") is not null;

    private static readonly bool PerJob = Environment.GetEnvironmentVariable("NB_PERJOB") is not null;

    private static readonly bool FrugalTrace = Environment.GetEnvironmentVariable("NB_PERJOB") == "frugal";

    private static readonly bool Exact = Environment.GetEnvironmentVariable("NB_EXACT") is not null;

    // NB_REPORTED: the service reports an execution time of this many times the true one (1: honest; 0.001: seconds read
    // as milliseconds; 0.7: the run without the queue). Unset: nothing reported.
    private static readonly double Reported = double.Parse(Environment.GetEnvironmentVariable("NB_REPORTED") ?? "0", CultureInfo.InvariantCulture);

    // NB_REPORTED_SWITCH: reports are honest for the jobs before this one, then NB_REPORTED's factor (0: from the first).
    private static readonly int ReportedSwitch = int.Parse(Environment.GetEnvironmentVariable("NB_REPORTED_SWITCH") ?? "0", CultureInfo.InvariantCulture);

    // NB_REPORTED_SHIFT: seconds added to each reported time (negative: a queue the report leaves out).
    private static readonly double ReportedShift = double.Parse(Environment.GetEnvironmentVariable("NB_REPORTED_SHIFT") ?? "0", CultureInfo.InvariantCulture);

    // NB_FREEZE: nothing is learned, every job polls by the catalog prior's plan (to tell plan-following from learning).
    private static readonly bool Frozen = Environment.GetEnvironmentVariable("NB_FREEZE") is not null;

    private static readonly double Noise = double.Parse(Environment.GetEnvironmentVariable("NB_NOISE") ?? "0", CultureInfo.InvariantCulture);

    private static readonly double Jitter = double.Parse(Environment.GetEnvironmentVariable("NB_JITTER") ?? "0", CultureInfo.InvariantCulture);

    private sealed record Job(double Requests, double Lag, double Truth);

    private static Job[] Simulate(LatencyProfile profile, ImageModel model, bool frugal, int seed, int count)
    {
        var options = new PollingOptions();
        if (Environment.GetEnvironmentVariable("NB_HALFLIFE") is { } hl)
        {
            options.LatencyHalfLife = double.Parse(hl, CultureInfo.InvariantCulture);
        }

        if (Environment.GetEnvironmentVariable("NB_PRIOR") is { } pw)
        {
            options.LatencyPriorWeight = double.Parse(pw, CultureInfo.InvariantCulture);
        }

        if (Environment.GetEnvironmentVariable("NB_TARGET") is { } tl)
        {
            options.TargetMeanLag = TimeSpan.FromSeconds(double.Parse(tl, CultureInfo.InvariantCulture));
        }

        if (frugal)
        {
            options.PollBudgetInterval = PollingOptions.Frugal().PollBudgetInterval;
        }

        var stats = new LatencyStatistics(options.LatencyWindow, options.LatencyHalfLife, options.LatencyPriorWeight);
        var random = new Random(seed);
        var jitterRandom = new Random(seed + 1000);
        var jobs = new Job[count];

        // Job i's completion time and its plan's stretch (NB_JITTER), drawn in job order by both models.
        (double Truth, double Warp) Draw(int i) =>
            (profile.Sample(model, random, i), 1 + (Jitter * ((2 * jitterRandom.NextDouble()) - 1)));

        if (Ordered)
        {
            var pending = new Queue<(double Lower, double Upper)>();
            for (var i = 0; i < count; i++)
            {
                var (truth, warp) = Draw(i);
                var t = 0.0;
                var previous = 0.0;
                var polls = 0;
                var basis = stats.Basis(model);
                while (t < truth)
                {
                    previous = t;
                    t += warp * stats.GetPlan(model, options).Delay(t / warp);
                    stats.RecordPollOutcome(model, basis, previous, t, t >= truth);
                    polls++;
                }

                jobs[i] = new Job(1 + polls, t - truth, truth);
                pending.Enqueue(Exact ? (truth, truth) : (previous, t));
                if (pending.Count >= 8)
                {
                    var (lower, upper) = pending.Dequeue();
                    stats.RecordInterval(model, lower, upper);
                }
            }
        }
        else
        {
            // Events in one clock, as over HTTP: 8 slots, a job is submitted when a slot frees, and its observation
            // reaches the statistics when its poll sees it done (so long jobs report late, as they do for real).
            var truths = new double[count];
            var polls = new int[count];
            var warps = new double[count];
            var bases = new LatencyStatistics.JudgeBasis?[count];
            var changesSeen = 0;
            var events = new PriorityQueue<(int Job, double Previous, double Next), double>();
            var started = 0;
            var noiseRandom = new Random(seed + 2000);

            // A poll planned for t reaches the service at t plus timing noise (NB_NOISE: its p10–p90 spread, seconds).
            double Land(double planned)
            {
                if (Noise <= 0)
                {
                    return planned;
                }

                var z = Math.Sqrt(-2 * Math.Log(1 - noiseRandom.NextDouble())) * Math.Cos(2 * Math.PI * noiseRandom.NextDouble());
                var deviation = z * Noise / 2.56;
                stats.RecordPollTiming(deviation);
                return Math.Max(planned + deviation, 1e-3);
            }

            void Start(double at)
            {
                var i = started++;
                (truths[i], warps[i]) = Draw(i);
                var planned = warps[i] * stats.GetPlan(model, options).Delay(0);
                if (!NoProbe && stats.TakeFirstPollProbe(model, options) is var probe and > 0)
                {
                    planned = warps[i] * probe;
                }

                var first = Land(planned);
                if (PerJob && seed == 0 && frugal == FrugalTrace && i < 40)
                {
                    var pl = stats.GetPlan(model, options);
                    var est = stats.GetEstimate(model);
                    Console.WriteLine(F($"    job {i} at {at:0.0}: true {truths[i]:0.00}, first poll {planned:0.00}; plan {string.Join(" ", pl.PollTimes().Take(10).Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))} (expects {pl.ExpectedPolls:0.00} polls, lag {pl.ExpectedLag:0.00}; estimate p10/50/90/99 {est.Quantile(0.1):0.00}/{est.Quantile(0.5):0.00}/{est.Quantile(0.9):0.00}/{est.Quantile(0.99):0.00})"));
                }

                events.Enqueue((i, 0, first), at + first);
            }

            for (var i = 0; i < Math.Min(8, count); i++)
            {
                Start(0);
            }

            while (events.TryDequeue(out var e, out var now))
            {
                polls[e.Job]++;
                if (!Exact && !Frozen)
                {
                    bases[e.Job] ??= stats.Basis(model);
                    stats.RecordPollOutcome(model, bases[e.Job], e.Previous, e.Next, e.Next >= truths[e.Job]);
                }

                if (e.Next >= truths[e.Job])
                {
                    jobs[e.Job] = new Job(1 + polls[e.Job], e.Next - truths[e.Job], truths[e.Job]);
                    if (Exact)
                    {
                        stats.RecordExact(model, truths[e.Job]);
                    }
                    else if (!Frozen)
                    {
                        stats.RecordCompletion(model, e.Previous, e.Next, Reported > 0 ? ((e.Job >= ReportedSwitch ? Reported : 1) * truths[e.Job]) + ReportedShift : null);
                    }

                    if (Environment.GetEnvironmentVariable("NB_CHANGES") is not null && stats.ChangePoints(model) != changesSeen && !frugal)
                    {
                        changesSeen = stats.ChangePoints(model);
                        Console.WriteLine($"    seed {seed}: change point {changesSeen} at job {e.Job} (completion of job started #{e.Job}), kept {stats.Count(model)}");
                    }

                    if (started < count)
                    {
                        Start(now);
                    }
                }
                else
                {
                    var delay = Land(e.Next + (warps[e.Job] * stats.GetPlan(model, options).Delay(e.Next / warps[e.Job]))) - e.Next;
                    events.Enqueue((e.Job, e.Next, e.Next + delay), now + delay);
                }
            }
        }

        if (Environment.GetEnvironmentVariable("NB_DEBUG") is not null && seed == 0 && !frugal)
        {
            var plan = stats.GetPlan(model, options);
            var estimate = stats.GetEstimate(model);
            var draws = new Random(5);
            var sample = Enumerable.Range(0, 20000).Select(_ => profile.Sample(model, draws, count - 1)).Order().ToArray();
            Console.WriteLine(F($"  estimate p10/50/90/99 {estimate.Quantile(0.1):0.00}/{estimate.Quantile(0.5):0.00}/{estimate.Quantile(0.9):0.00}/{estimate.Quantile(0.99):0.00} true {sample[2000]:0.00}/{sample[10000]:0.00}/{sample[18000]:0.00}/{sample[19800]:0.00}; bin {estimate.BinWidth:0.000}"));
            var levels = new[] { 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 0.95, 0.99 };
            Console.WriteLine("  estimated CDF at the true quantiles: " + string.Join(" ", levels.Select(q => F($"{sample[(int)(q * sample.Length)]:0.00}s {q:0.00}->{estimate.Cdf(sample[(int)(q * sample.Length)]):0.000}"))));
            var firstPoll = plan.PollTimes().First();
            Console.WriteLine(F($"  P(T <= first poll {firstPoll:0.00}): estimate {estimate.Cdf(firstPoll):0.000} true {sample.Count(x => x <= firstPoll) / (double)sample.Length:0.000}; P(T <= true p10): estimate {estimate.Cdf(sample[2000]):0.000}"));
            Console.WriteLine(F($"  plan expects lag {plan.ExpectedLag:0.000} polls {plan.ExpectedPolls:0.00}; times {string.Join(" ", plan.PollTimes().Take(24).Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))}"));
            var (lag, polls) = plan.Replay(sample);
            Console.WriteLine(F($"  that plan over the truth: lag {lag:0.000} polls {polls:0.00}"));
            var warm = jobs.Skip(30).Take(100).ToArray();
            var (warmLag, warmPolls) = plan.Replay(warm.Select(j => j.Truth).ToArray());
            Console.WriteLine(F($"  over the warm jobs: that plan's lag {warmLag:0.000} polls {warmPolls:0.00}; measured lag {warm.Average(j => j.Lag):0.000} polls {warm.Average(j => j.Requests - 1):0.00}"));
            var truthGrid = PollingOptimum.Truth(sample);
            var best = OptimalPollPlanner.ForLag(truthGrid, lag, options.MinInterval.TotalSeconds, options.MaxInterval.TotalSeconds);

            // A plan replayed over the truth, against the optimum over randomised schedules (the hull) and the step.
            void Against(string label, PollPlan other)
            {
                var (otherLag, otherPolls) = other.Replay(sample);
                var hull = PollingOptimum.HullPolls(truthGrid, otherLag, options.MinInterval.TotalSeconds, options.MaxInterval.TotalSeconds);
                var step = OptimalPollPlanner.ForLag(truthGrid, otherLag, options.MinInterval.TotalSeconds, options.MaxInterval.TotalSeconds).ExpectedPolls;
                Console.WriteLine(F($"    {label}: over the truth lag {otherLag:0.000} polls {otherPolls:0.00}; the hull {Signed(100 * (((1 + otherPolls) / (1 + hull)) - 1))}%, the step {Signed(100 * (((1 + otherPolls) / (1 + step)) - 1))}% (requests)"));
            }

            if (Environment.GetEnvironmentVariable("NB_SWEEP") is not null)
            {
                // The final estimate's plans for other lag targets, replayed over the truth: if every one sits above the
                // optimum by about the same share, the estimate's shape is at fault, not the lag multiplier.
                foreach (var target in new[] { 0.40, 0.46, 0.52, 0.58, 0.64, 0.70, 0.80 })
                {
                    Against(F($"target {target:0.00}"), OptimalPollPlanner.ForLag(estimate, target, options.MinInterval.TotalSeconds, options.MaxInterval.TotalSeconds));
                }
            }

            if (Environment.GetEnvironmentVariable("NB_ORACLE") is not null)
            {
                // The estimator's smoothing applied to a histogram of 50,000 fresh draws from the truth on the estimate's
                // grid, as if the likelihood step had recovered the truth exactly: what the smoothing alone costs, for
                // the effective observation counts n that the recency weights give (about 90 warm) and beyond.
                var fresh = new Random(77);
                var histogram = new double[estimate.Bins + 1];
                for (var i = 0; i < 50_000; i++)
                {
                    histogram[Math.Min(estimate.Bins, (int)(profile.Sample(model, fresh, count - 1) / estimate.BinWidth))] += 1;
                }

                foreach (var n in new[] { 0.0, 30, 100, 300, 1000, 10_000 })
                {
                    var known = n == 0 ? new CompletionTimeDistribution(estimate.BinWidth, [.. histogram]) : IntervalCensoredEstimator.Smoothed([.. histogram], estimate.BinWidth, n);
                    Against(F($"true histogram, {(n == 0 ? "not smoothed" : F($"smoothed for n = {n}"))}"), OptimalPollPlanner.ForLag(known, options.TargetMeanLag.TotalSeconds, options.MinInterval.TotalSeconds, options.MaxInterval.TotalSeconds));
                }
            }

            Console.WriteLine(F($"  optimum at that lag: polls {best.ExpectedPolls:0.00}; times {string.Join(" ", best.PollTimes().Take(24).Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))}"));
        }

        if (PerJob && seed == 0 && frugal == FrugalTrace)
        {
            Console.WriteLine("  jobs (requests/lag): " + string.Join(" ", jobs.Take(60).Select(j => F($"{j.Requests:0}/{j.Lag:0.0}"))));
        }

        return jobs;
    }

    // NB_WINDOWS: the HTTP harness's own jobs (the emulator's seed 7, drawn in job order), with the optimum's plan for the
    // lag target replayed over its cold window (first 30) and its warm one (next 100), each as a share of what fixed 1 s
    // sends for the same jobs: how far apart the two windows' shares are for one and the same schedule, which is the
    // yardstick of the harness's "warm not worse than cold" goal.
    private static int Windows((string Name, LatencyProfile Profile)[] shapes)
    {
        Console.WriteLine("| distribution | model | the optimum's share of fixed 1 s: cold | warm | warm − cold |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var (name, profile) in shapes)
        {
            foreach (var tier in LatencyShapes.Tiers)
            {
                var model = ModelCatalog.Default[tier];
                var random = new Random(7);
                var jobs = Enumerable.Range(0, 130).Select(i => profile.Sample(model, random, i)).ToArray();
                var plan = PollingOptimum.PlanForTarget(profile, model);
                double Share(double[] window) => (1 + plan.Replay(window).Polls) / window.Average(t => FixedRequests(t, 1));
                var cold = Share(jobs[..30]);
                var warm = Share(jobs[30..]);
                Console.WriteLine(F($"| {name} | {tier} | {100 * cold:0}% | {100 * warm:0}% | {Signed(100 * (warm - cold))} points |"));
            }
        }

        return 0;
    }

    // A fixed loop's requests for a job that takes t seconds: the submit and ⌈t / interval⌉ polls.
    private static double FixedRequests(double t, double interval) => 1 + Math.Ceiling(t / interval);

    // A fixed loop's requests/job (submit included) and mean lag over 100,000 draws from the truth.
    private static (double Requests, double Lag) FixedLoop(LatencyProfile profile, ImageModel model, double interval)
    {
        var random = new Random(99);
        double req = 0, lag = 0;
        const int n = 100_000;
        for (var i = 0; i < n; i++)
        {
            var t = profile.Sample(model, random, 0);
            var k = Math.Ceiling(t / interval);
            req += FixedRequests(t, interval) / n;
            lag += ((k * interval) - t) / n;
        }

        return (req, lag);
    }

    // A fixed loop over the truth: prints its requests and lag, returns the requests.
    private static double Fixed(LatencyProfile profile, ImageModel model, double interval)
    {
        var (req, lag) = FixedLoop(profile, model, interval);
        var at70 = Optimum(profile, model, 0, 0.7 * lag);
        Console.WriteLine(F($"  fixed {interval} s: {req:0.00} req, lag {lag:0.000}; 70% = {0.7 * lag:0.000}; the optimum at that lag: {at70:0.00} req ({Signed(100 * ((at70 / req) - 1))}%)"));
        return req;
    }

    private static double Optimum(LatencyProfile profile, ImageModel model, int jobIndex, double lag)
    {
        var random = new Random(99);
        var draws = Enumerable.Range(0, 100_000).Select(_ => profile.Sample(model, random, jobIndex)).ToArray();
        var truth = PollingOptimum.Truth(draws);
        var options = new PollingOptions();
        if (Environment.GetEnvironmentVariable("NB_HULL") is not null)
        {
            return 1 + PollingOptimum.HullPolls(truth, lag, options.MinInterval.TotalSeconds, options.MaxInterval.TotalSeconds);
        }

        return 1 + OptimalPollPlanner.ForLag(truth, lag, options.MinInterval.TotalSeconds, options.MaxInterval.TotalSeconds).ExpectedPolls;
    }
}
