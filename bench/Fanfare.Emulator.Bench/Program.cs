using System.Globalization;
using Fanfare.Emulator.Bench;

// Fanfare.Emulator.Bench --emulator PATH/Fanfare.Emulator.dll [--scenario startup,reset,guest,refresh,queue-enter,…] [options]
// Usually run through bench/run.sh, which publishes the emulator in Release first. See bench/README.md.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

BenchOptions options;
List<IScenario> selected;
try
{
    options = BenchOptions.Parse(args);
    selected = options.Scenarios.Count == 0 && options.Quick
        ? Scenarios.All.Where(s => Scenarios.Quick.Contains(s.Name)).ToList()
        : options.Scenarios.Count == 0 || options.Scenarios.Contains("all")
        ? Scenarios.All.ToList()
        : options.Scenarios.Select(name => Scenarios.All.FirstOrDefault(s => s.Name == name)
            ?? throw new ArgumentException($"unknown scenario '{name}' (known: {string.Join(", ", Scenarios.All.Select(s => s.Name))})")).ToList();
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"bench: {ex.Message}\n\n{BenchOptions.Usage}");
    return 2;
}
if (options.Help) { Console.WriteLine(BenchOptions.Usage); return 0; }

Console.WriteLine($"Fanfare Emulator bench: {options.EmulatorDll}");
Console.WriteLine($"  {Environment.ProcessorCount} cores, .NET {Environment.Version}, {(options.InMemory ? "in-memory store" : "LiteDB store in a temp data dir")}, " +
                  $"concurrency {options.Concurrency}, up to {options.Requests} requests or {options.DurationSeconds} s per load scenario");

var rows = new List<Row>();
var failures = new List<string>();
await using (var context = new BenchContext(options))
{
    foreach (var scenario in selected)
    {
        Console.WriteLine($"  running {scenario.Name}: {scenario.Description} …");
        try
        {
            rows.AddRange(await scenario.RunAsync(context));
        }
        catch (BenchCheckFailedException ex)
        {
            failures.Add(ex.Message.StartsWith(scenario.Name + ":", StringComparison.Ordinal) ? ex.Message : $"{scenario.Name}: {ex.Message}");
            rows.Add(new(scenario.Name, "CHECK FAILED", double.NaN, "", ex.Message));
            Console.Error.WriteLine($"bench: !!! {scenario.Name} CHECK FAILED: {ex.Message}");
        }
    }
}

Console.WriteLine();
Table.Print(rows);
if (failures.Count == 0) return 0;
Console.Error.WriteLine($"\nbench: FAILED — {failures.Count} scenario(s) failed their correctness check:");
foreach (var f in failures) Console.Error.WriteLine("  " + f);
return 1;

/// <summary>Command-line options.</summary>
public sealed class BenchOptions
{
    public string EmulatorDll { get; private set; } = "";
    public List<string> Scenarios { get; } = [];
    public int StartupRuns { get; private set; } = 3;
    public int Resets { get; private set; } = 20;
    public long Requests { get; private set; } = 5000;
    public double DurationSeconds { get; private set; } = 10;
    public int Concurrency { get; private set; } = 32;
    public long Warmup { get; private set; } = 500;
    public int QueueConsumers { get; private set; } = 10_000;
    public int StatusRequests { get; private set; } = 20_000;
    public int CheckoutConsumers { get; private set; } = 2000;
    public bool InMemory { get; private set; }
    public bool Help { get; private set; }
    public bool Quick { get; private set; }
    /// <summary>The bare-Kestrel reference (bench/Reference, published by run.sh).</summary>
    public string? ReferenceDll { get; private set; }
    public int WrkThreads { get; private set; } = 2;
    public int WrkConnections { get; private set; } = 64;
    public int WrkSeconds { get => _wrkSeconds; init => _wrkSeconds = value; }

    public BenchOptions() { }

    /// <summary>A copy (e.g. with a shorter <see cref="WrkSeconds"/> for warm-up runs).</summary>
    public BenchOptions(BenchOptions o)
    {
        EmulatorDll = o.EmulatorDll; Scenarios.AddRange(o.Scenarios); StartupRuns = o.StartupRuns; Resets = o.Resets;
        Requests = o.Requests; DurationSeconds = o.DurationSeconds; Concurrency = o.Concurrency; Warmup = o.Warmup;
        QueueConsumers = o.QueueConsumers; StatusRequests = o.StatusRequests; InMemory = o.InMemory; Help = o.Help; Quick = o.Quick;
        ReferenceDll = o.ReferenceDll; WrkThreads = o.WrkThreads; WrkConnections = o.WrkConnections; _wrkSeconds = o.WrkSeconds;
    }

    public const string Usage = """
        usage: Fanfare.Emulator.Bench --emulator PATH/Fanfare.Emulator.dll [options]
          --scenario LIST     comma-separated: startup, reset, guest, refresh, queue-enter, queue-status,
                              queue-advance-24h, reset-after-consumers, kestrel, checkout, all (default all; repeatable)
          --quick             the issue-15 rows only (kestrel, reset, queue-*, reset-after-consumers), shorter:
                              --runs 2 --resets 10 --wrk-seconds 3 --status-requests 5000 --warmup 300
          --reference DLL     the bare-Kestrel reference (bench/Reference; run.sh passes it)
          --wrk-seconds N     duration of each wrk run of the kestrel scenario (default 5)
          --wrk-threads N     wrk threads (default 2)
          --wrk-connections N wrk connections (default 64)
          --runs N            startup runs (median reported; default 3)
          --resets N          timed resets (median reported; default 20)
          --requests N        request budget per load scenario (default 5000)
          --duration SECONDS  time limit per load scenario (default 10)
          --concurrency N     concurrent workers for load scenarios (default 32)
          --warmup N          untimed requests before each load scenario (default 500)
          --queue-consumers N consumers entering the queue in the queue scenarios (default 10000)
          --status-requests N GET /queues/{id}/status requests of queue-status (default 20000)
          --checkout-consumers N admitted consumers each checking out once in the checkout scenario (default 2000)
          --in-memory         run the emulator with --in-memory instead of a LiteDB file
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--emulator": o.EmulatorDll = Path.GetFullPath(Next()); break;
                case "--scenario": o.Scenarios.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
                case "--runs": o.StartupRuns = Positive(Next()); break;
                case "--resets": o.Resets = Positive(Next()); break;
                case "--requests": o.Requests = Positive(Next()); break;
                case "--duration": o.DurationSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--concurrency": o.Concurrency = Positive(Next()); break;
                case "--warmup": o.Warmup = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--queue-consumers": o.QueueConsumers = Positive(Next()); break;
                case "--status-requests": o.StatusRequests = Positive(Next()); break;
                case "--checkout-consumers": o.CheckoutConsumers = Positive(Next()); break;
                case "--in-memory": o.InMemory = true; break;
                case "--quick":
                    o.Quick = true; o.StartupRuns = 2; o.Resets = 10; o.WrkSecondsSet(3); o.StatusRequests = 5000; o.Warmup = 300;
                    break;
                case "--reference": o.ReferenceDll = Path.GetFullPath(Next()); break;
                case "--wrk-seconds": o.WrkSecondsSet(Positive(Next())); break;
                case "--wrk-threads": o.WrkThreads = Positive(Next()); break;
                case "--wrk-connections": o.WrkConnections = Positive(Next()); break;
                case "-h" or "--help": o.Help = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (!o.Help && !File.Exists(o.EmulatorDll)) throw new ArgumentException($"--emulator: no such file '{o.EmulatorDll}'");
        return o;
    }

    private void WrkSecondsSet(int s) => _wrkSeconds = s;
    private int _wrkSeconds = 5;

    private static int Positive(string s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"expected a positive integer, got '{s}'");
}

public static class Table
{
    public static void Print(IReadOnlyList<Row> rows)
    {
        var cells = rows.Select(r => new[] { r.Scenario, r.Metric, r.Value.ToString(r.Unit.StartsWith('×') ? "0.00" : r.Value >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture), r.Unit, r.Detail }).ToList();
        string[] header = ["scenario", "metric", "value", "unit", "detail"];
        var widths = header.Select((h, c) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(row => row[c].Length))).ToArray();
        string Line(string[] row) => "| " + string.Join(" | ", row.Select((v, c) => c == 2 ? v.PadLeft(widths[c]) : v.PadRight(widths[c]))) + " |";
        Console.WriteLine(Line(header));
        Console.WriteLine("|" + string.Join("|", widths.Select((w, c) => c == 2 ? new string('-', w + 1) + ":" : new string('-', w + 2))) + "|");
        foreach (var row in cells) Console.WriteLine(Line(row));
    }
}
