using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Fanfare.Emulator.Bench;

/// <summary>
/// What the first touch of a memory page the process has never used costs on this machine (a minor page fault), against
/// a second touch of the same page. Measured once per bench run in the bench's own process: 64 MB from <c>malloc</c>
/// (fresh pages), one byte written per page, twice. On the project's build machines (Firecracker microVMs) a first touch
/// costs ≈ 20 µs — two orders of magnitude above a usual Linux host — so the rows that grow the emulator's heap (a reset on
/// a young emulator, the queue loads) are read with the emulator's fault counts (<see cref="EmulatorProcess.MinorFaults"/>).
/// </summary>
public static class PageFaults
{
    private static (double FirstTouch, double Retouch)? _measured;

    /// <summary>Microseconds per page: first touch (fault) and second touch (no fault).</summary>
    public static (double FirstTouch, double Retouch) Measure()
    {
        if (_measured is { } m) return m;
        const int bytes = 64 << 20;
        var page = Environment.SystemPageSize;
        var pages = bytes / page;
        var memory = Marshal.AllocHGlobal(bytes);
        try
        {
            var first = Touch(memory, pages, page, 1);
            var second = Touch(memory, pages, page, 2);
            _measured = m = (first * 1000 / pages, second * 1000 / pages);
            return m;
        }
        finally
        {
            Marshal.FreeHGlobal(memory);
        }
    }

    private static double Touch(IntPtr memory, int pages, int page, byte value)
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < pages; i++) Marshal.WriteByte(memory, i * page, value);
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>"first touch of a fresh page X µs, second touch Y µs" (this machine).</summary>
    public static string Describe()
    {
        var (first, retouch) = Measure();
        return $"this machine: first touch of a fresh page {first:0.0} µs, second touch {retouch:0.00} µs";
    }
}
