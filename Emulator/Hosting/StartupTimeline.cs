using System.Diagnostics;
using System.Globalization;

namespace Fanfare.Emulator.Hosting;

/// <summary>
/// Where start-up time goes (issue 15, bench/README.md): named marks, in milliseconds since the process was spawned,
/// logged once at Debug under <c>Fanfare.Emulator.Hosting.Startup</c> when the first request has been answered
/// (<c>Logging__LogLevel__Fanfare.Emulator.Hosting.Startup=Debug</c>). Wall-clock latency of this process, not emulated
/// time, so it reads a stopwatch, never the emulator clock.
/// </summary>
internal static class StartupTimeline
{
    public const string Category = "Fanfare.Emulator.Hosting.Startup";
    private static readonly Stopwatch Watch = Stopwatch.StartNew();
    /// <summary>Milliseconds from spawning the process to the first mark (runtime and host start, before <c>Main</c>).</summary>
    private static readonly double BeforeMain = SinceSpawnMs();
    private static readonly List<(string Name, double Ms)> Marks = [];
    private static int _reported;

    public static void Mark(string name)
    {
        var ms = BeforeMain + Watch.Elapsed.TotalMilliseconds;
        lock (Marks) Marks.Add((name, ms));
    }

    /// <summary>The marks as one line (<c>name=ms …</c>), first the runtime's own start.</summary>
    public static string Describe()
    {
        lock (Marks)
            return $"start-up timeline (ms since spawn): runtime+host={BeforeMain.ToString("0", CultureInfo.InvariantCulture)} " +
                   string.Join(' ', Marks.Select(m => $"{m.Name}={m.Ms.ToString("0", CultureInfo.InvariantCulture)}")) +
                   $" gcHeap={GC.GetTotalMemory(false) / (1024 * 1024)}MB jitted={System.Runtime.JitInfo.GetCompiledMethodCount()} methods" +
                   $" ({System.Runtime.JitInfo.GetCompiledILBytes() / 1024} KB IL, {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0} ms JIT)";
    }

    /// <summary>Logs the timeline once (after the first answered request).</summary>
    public static void ReportOnce(ILogger log)
    {
        if (Interlocked.Exchange(ref _reported, 1) != 0) return;
        Mark("first-response");
        if (log.IsEnabled(LogLevel.Debug)) log.LogDebug("{Timeline}", Describe());
    }

    /// <summary>Linux: process age from <c>/proc/self/stat</c> (start time in clock ticks since boot, 10 ms steps); else 0.</summary>
    private static double SinceSpawnMs()
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return 0;
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var startTicks = long.Parse(fields[19], CultureInfo.InvariantCulture); // field 22: starttime, in USER_HZ (100/s)
            var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
            return Math.Max(0, uptime * 1000 - startTicks * 10.0);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException) { return 0; }
    }
}
