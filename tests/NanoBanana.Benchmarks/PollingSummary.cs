using System.Globalization;
using System.Text.RegularExpressions;

namespace NanoBanana.Benchmarks;

/// <summary>
/// Reads saved outputs of the polling harness (<c>docs/results/polling*.txt</c>) and prints, per goal of issue 10, in how
/// many runs it was met, and per distribution × tier the range of the warm default's excess over the optimum (the step,
/// and the hull where the run has it) and of its warm lag. The README's claims over several runs come from this, not from
/// reading the files by hand. Usage: <c>-- polling-summary docs/results/polling*.txt</c>.
/// </summary>
internal static partial class PollingSummary
{
    public static int Run(string[] files)
    {
        if (files.Length == 0)
        {
            Console.Error.WriteLine("usage: polling-summary <harness output files>");
            return 2;
        }

        // goal → run → met; cell → warm vs step, vs hull, warm lag (one per run that has the cell).
        var goals = new SortedDictionary<string, List<(string Run, bool Met, (string Name, double Value)[] Figures)>>(StringComparer.Ordinal);
        var cells = new SortedDictionary<string, List<(string Run, double Step, double? Hull, double Lag)>>(StringComparer.Ordinal);
        var missed = new List<(string Run, int Goals, int Missed)>();
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var run = Path.GetFileNameWithoutExtension(file);
            int total = 0, misses = 0;
            string[]? header = null;
            foreach (var line in File.ReadLines(file))
            {
                if (Goal().Match(line) is { Success: true } g)
                {
                    var met = g.Groups["verdict"].Value == "MET ";
                    var rest = g.Groups["rest"].Value;
                    var key = $"{g.Groups["subject"].Value}: {Kind(rest)}";
                    (goals.TryGetValue(key, out var list) ? list : goals[key] = []).Add((run, met, Figures(rest)));
                    total++;
                    misses += met ? 0 : 1;
                }
                else if (line.StartsWith("| distribution |", StringComparison.Ordinal))
                {
                    header = Cells(line);
                }
                else if (header is not null && line.StartsWith("| ", StringComparison.Ordinal) && Cells(line) is { } row
                    && row.Length == header.Length && row[2] is "default" or "default, next 50 jobs")
                {
                    var step = Percent(row[Array.IndexOf(header, "warm vs optimum")]);
                    var hullAt = Array.IndexOf(header, "warm vs that");
                    var lag = double.Parse(row[Array.IndexOf(header, "warm lag (s)")], CultureInfo.InvariantCulture);
                    if (step is { } s)
                    {
                        var key = $"{row[0]} {row[1]}{(row[2] == "default" ? "" : ", 50–100 jobs after the change")}";
                        (cells.TryGetValue(key, out var list) ? list : cells[key] = []).Add((run, s, hullAt >= 0 ? Percent(row[hullAt]) : null, lag));
                    }
                }
            }

            missed.Add((run, total, misses));
        }

        Console.WriteLine("| run | goals | missed |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (run, total, misses) in missed)
        {
            Console.WriteLine($"| {run} | {total} | {misses} |");
        }

        Console.WriteLine();
        Console.WriteLine("| goal | met in | figures over the runs | missed in |");
        Console.WriteLine("|---|---:|---|---|");
        foreach (var (goal, runs) in goals)
        {
            var misses = runs.Where(r => !r.Met).Select(r => r.Run).ToArray();
            var figures = runs.SelectMany(r => r.Figures).GroupBy(f => f.Name)
                .Select(f => f.Key.EndsWith("(s)", StringComparison.Ordinal)
                    ? $"{f.Key} {Range(f.Select(x => x.Value), "0.000")}"
                    : $"{f.Key} {Range(f.Select(x => x.Value), "0.#", f.Key.Contains("vs", StringComparison.Ordinal))}%");
            Console.WriteLine($"| {goal} | {runs.Count(r => r.Met)} of {runs.Count} | {string.Join("; ", figures)} | {string.Join(", ", misses)} |");
        }

        Console.WriteLine();
        Console.WriteLine("| warm default | runs | vs the step | vs the hull | warm lag (s) |");
        Console.WriteLine("|---|---:|---|---|---|");
        foreach (var (cell, runs) in cells)
        {
            var hulls = runs.Where(r => r.Hull is not null).Select(r => r.Hull!.Value).ToArray();
            var hull = hulls.Length == 0 ? "" : $"{Range(hulls, "0")}% ({hulls.Length} runs)";
            Console.WriteLine($"| {cell} | {runs.Count} | {Range(runs.Select(r => r.Step), "0")}% | {hull} | {Range(runs.Select(r => r.Lag), "0.000", signed: false)} |");
        }

        return 0;
    }

    // What a goal line checks, without its figures.
    private static string Kind(string rest) => rest switch
    {
        _ when rest.Contains("cold over", StringComparison.Ordinal) => "warm not worse than the mean of several cold windows, as shares of the optimum's plan on the same jobs",
        _ when rest.Contains("of the optimum's plan", StringComparison.Ordinal) => "warm not worse than cold, as shares of the optimum's plan on the same jobs",
        _ when rest.Contains("not worse than cold", StringComparison.Ordinal) => "warm not worse than cold, as shares of fixed 1 s on the same jobs",
        _ when rest.Contains("after the drift", StringComparison.Ordinal) => "within 10% of the new optimum after the drift",
        _ when rest.StartsWith("warm default", StringComparison.Ordinal) => "warm default within 10% of the optimum",
        _ when rest.Contains("vs fixed 1 s", StringComparison.Ordinal) => "fewer requests than fixed 1 s at no worse lag",
        _ when rest.StartsWith("frugal", StringComparison.Ordinal) => "frugal: no more requests than fixed 2 s, at ≤ 70% of its lag",
        _ when rest.Contains("(1 expected)", StringComparison.Ordinal) => "1 request per job",
        _ => rest,
    };

    // The figures a goal line is judged by, as percentages (a name ending "(s)" is in seconds).
    private static (string Name, double Value)[] Figures(string rest)
    {
        static double N(Group g) => double.Parse(g.Value, CultureInfo.InvariantCulture);
        if (FixedLoop().Match(rest) is { Success: true } f)
        {
            return [("fewer requests", N(f.Groups["fewer"])), ("lag minus fixed 1 s's (s)", N(f.Groups["lag"]) - N(f.Groups["fixed"]))];
        }

        if (Frugal().Match(rest) is { Success: true } b)
        {
            return [("requests vs fixed 2 s", 100 * ((N(b.Groups["req"]) / N(b.Groups["budget"])) - 1)), ("lag share", N(b.Groups["share"]))];
        }

        if (WarmColdSets().Match(rest) is { Success: true } m)
        {
            return [("warm", N(m.Groups["warm"])), ("mean cold", N(m.Groups["cold"]))];
        }

        if (WarmColdOptimum().Match(rest) is { Success: true } o)
        {
            return [("warm", N(o.Groups["warm"])), ("cold", N(o.Groups["cold"])), ("fixed 1 s: warm", N(o.Groups["warmf"])), ("fixed 1 s: cold", N(o.Groups["coldf"]))];
        }

        if (WarmCold().Match(rest) is { Success: true } w)
        {
            return [("warm", N(w.Groups["warm"])), ("cold", N(w.Groups["cold"]))];
        }

        return Ratio().Match(rest) is { Success: true } r ? [("vs optimum", 100 * ((N(r.Groups["req"]) / N(r.Groups["optimum"])) - 1))] : [];
    }

    [GeneratedRegex(@"at lag (?<lag>[\d.]+) vs fixed 1 s [\d.]+ at (?<fixed>[\d.]+): (?<fewer>-?\d+)% fewer")]
    private static partial Regex FixedLoop();

    [GeneratedRegex(@"^frugal (?<req>[\d.]+) req <= fixed 2 s (?<budget>[\d.]+),.*\((?<share>\d+)%\)")]
    private static partial Regex Frugal();

    [GeneratedRegex(@"= (?<warm>\d+)% of fixed 1 s.*= (?<cold>\d+)%")]
    private static partial Regex WarmCold();

    [GeneratedRegex(@"= (?<warm>\d+)% of the optimum's plan on the same jobs, [\d.]+ s\) not worse than cold over \d+ job sets \(mean (?<cold>\d+)%")]
    private static partial Regex WarmColdSets();

    [GeneratedRegex(@"= (?<warm>\d+)% of the optimum's plan on the same jobs, (?<warmf>\d+)% of fixed 1 s.*= (?<cold>\d+)%, (?<coldf>\d+)%")]
    private static partial Regex WarmColdOptimum();

    [GeneratedRegex(@"default (?<req>[\d.]+) req(/job)? within 10% of the (new )?optimum (?<optimum>[\d.]+)")]
    private static partial Regex Ratio();

    private static string[] Cells(string line) => [.. line.Trim().Trim('|').Split('|').Select(c => c.Trim())];

    private static double? Percent(string cell) =>
        double.TryParse(cell.TrimEnd('%').Replace('−', '-'), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static string Range(IEnumerable<double> values, string format, bool signed = true)
    {
        var all = values.ToArray();
        string F(double v) => (signed && v > 0 ? "+" : "") + v.ToString(format, CultureInfo.InvariantCulture);
        return all.Min() == all.Max() ? F(all.Min()) : $"{F(all.Min())}…{F(all.Max())}";
    }

    [GeneratedRegex(@"^\s*\[(?<verdict>MET |MISS)\] (?<subject>[^:]+): (?<rest>.*)$")]
    private static partial Regex Goal();
}
