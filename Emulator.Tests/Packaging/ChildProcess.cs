using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Fanfare.Emulator.Tests.Packaging;

/// <summary>
/// A child process with its stdout+stderr captured (for failure messages), a graceful stop (SIGTERM, as
/// <c>docker stop</c> sends) and a kill that always runs on dispose.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process) => _process = process;

    public string Output { get { lock (_output) return _output.ToString(); } }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public int Id => _process.Id;

    /// <summary>The <c>dotnet</c> host running this test (so the child uses the same SDK/runtime), else <c>dotnet</c> on PATH.</summary>
    public static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }

    /// <summary>
    /// The test's environment minus what <c>dotnet test</c>/MSBuild injects (MSBuild*, VSTEST*), which would otherwise leak
    /// into a nested <c>dotnet publish</c> or the emulator, plus <paramref name="overrides"/> in order.
    /// </summary>
    public static Dictionary<string, string> CleanEnvironment(params IEnumerable<KeyValuePair<string, string>>[] overrides)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var key = (string)e.Key;
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("Emulator__", StringComparison.OrdinalIgnoreCase)) continue;
            env[key] = (string?)e.Value ?? "";
        }
        foreach (var set in overrides)
            foreach (var (k, v) in set) env[k] = v;
        return env;
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, IDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false, CreateNoWindow = true,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in environment) psi.Environment[k] = v;

        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(p);
        p.OutputDataReceived += (_, e) => child.Append(e.Data);
        p.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child.Append($"$ {fileName} {string.Join(' ', arguments)}   (in {workingDirectory})");
        p.Start();
        p.StandardInput.Close(); // no stdin, as in CI and in a container
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs to completion (killed after <paramref name="timeout"/>) and returns the exit code.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory,
        IDictionary<string, string> environment, TimeSpan timeout)
    {
        await using var p = Start(fileName, arguments, workingDirectory, environment);
        if (!await p.WaitForExitAsync(timeout))
            throw new TimeoutException($"`{fileName} {string.Join(' ', arguments)}` did not finish within {timeout.TotalSeconds:0} s.\n{p.Output}");
        return (p.ExitCode, p.Output);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>True when the process exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); return true; }
        catch (OperationCanceledException) { return _process.HasExited; }
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);

    /// <summary>
    /// Asks the process to stop the way <c>docker stop</c> does (SIGTERM; a kill on Windows) and waits for it; true when it
    /// exited on its own within <paramref name="timeout"/> (it is killed otherwise).
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited) return true;
        if (OperatingSystem.IsWindows()) { _process.Kill(entireProcessTree: true); return await WaitForExitAsync(timeout); }
        SysKill(_process.Id, 15 /* SIGTERM */);
        if (await WaitForExitAsync(timeout)) return true;
        Kill();
        return false;
    }

    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await WaitForExitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }
}
