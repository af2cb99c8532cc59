using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Fanfare.Emulator.Tests.Packaging;

/// <summary>
/// The Docker engine the container tests use, through the <c>docker</c> CLI (also linked into
/// <c>Fanfare.Emulator.Testcontainers.Tests</c> and <c>samples/</c>).
/// <para>
/// <see cref="Require" />: where no engine answers (a laptop without Docker) or the image was not built, a test skips with
/// the reason; under CI (<c>CI=true</c>) the same is a failure, so CI can never pass by skipping them.
/// </para>
/// The image is <c>fanfare-emulator:0.1.0</c> (what <c>docker/build-local.sh</c> and
/// <c>docker build -t fanfare-emulator:0.1.0 .</c> produce), or <c>$FANFARE_EMULATOR_IMAGE</c>.
/// </summary>
public static class DockerEngine
{
    public const string DefaultImage = "fanfare-emulator:0.1.0";

    public static string Image => Environment.GetEnvironmentVariable("FANFARE_EMULATOR_IMAGE") is { Length: > 0 } i ? i : DefaultImage;

    public static bool InCi => Environment.GetEnvironmentVariable("CI") is { } ci && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    private static readonly Lazy<string?> Problem = new(FindProblem);

    /// <summary>Skips the calling test (or fails it under CI) when there is no engine or no image.</summary>
    public static void Require()
    {
        if (Problem.Value is not { } problem) return;
        if (InCi) throw new Xunit.Sdk.XunitException($"CI=true and {problem}: the container tests must run in CI (.ci/run starts dockerd and runs docker/build-local.sh).");
        Skip.If(true, $"{problem} (start Docker and build the image with docker/build-local.sh; under CI=true this fails instead)");
    }

    private static string? FindProblem()
    {
        var (code, output) = TryRun("version", "--format", "{{.Server.APIVersion}}");
        if (code != 0) return $"no Docker engine answers `docker version` ({output.Trim().Split('\n')[^1]})";
        (code, output) = TryRun("image", "inspect", "--format", "{{.Id}}", Image);
        if (code != 0) return $"the image {Image} is not built";
        return null;
    }

    /// <summary>
    /// Testcontainers for .NET against an older engine (Debian's docker.io 20.10 speaks API 1.41, Testcontainers asks for
    /// 1.44) and without its Ryuk image (nothing can be pulled here): set <c>DOCKER_API_VERSION</c> and
    /// <c>TESTCONTAINERS_RYUK_DISABLED</c> unless the environment already says, before Testcontainers reads them.
    /// </summary>
    [ModuleInitializer]
    internal static void ConfigureTestcontainers()
    {
        try
        {
            if (Environment.GetEnvironmentVariable("DOCKER_API_VERSION") is null)
            {
                var (code, version) = TryRun("version", "--format", "{{.Server.APIVersion}}");
                if (code == 0 && Version.TryParse(version.Trim(), out var v) && v < new Version(1, 44))
                    Environment.SetEnvironmentVariable("DOCKER_API_VERSION", version.Trim());
            }
            if (Environment.GetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED") is null)
            {
                var (code, ids) = TryRun("images", "--quiet", "testcontainers/ryuk");
                if (code != 0 || ids.Trim().Length == 0) Environment.SetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED", "true");
            }
        }
        catch (Exception) { /* no docker CLI: Require() reports it */ }
    }

    /// <summary>Runs <c>docker args…</c>; fails the test (with the output) when it exits non-zero.</summary>
    public static string Run(params string[] args)
    {
        var (code, output) = TryRun(args);
        if (code != 0) throw new Xunit.Sdk.XunitException($"docker {string.Join(' ', args)} exited {code}:\n{output}");
        return output.Trim();
    }

    /// <summary>Runs <c>docker args…</c>: exit code and stdout+stderr (stdout first). Never throws for a failing command.</summary>
    public static (int Code, string Output) TryRun(params string[] args)
    {
        var (code, stdout, stderr) = TryRunSplit(args);
        return (code, stdout + stderr);
    }

    /// <summary>Runs <c>docker args…</c>: exit code, stdout and stderr apart.</summary>
    public static (int Code, string Stdout, string Stderr) TryRunSplit(params string[] args)
    {
        var psi = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (Exception ex) { return (127, "", $"cannot run docker: {ex.Message}"); }
        using (p)
        {
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                return (124, stdout.Result, stderr.Result + $"\n(docker {string.Join(' ', args)} timed out after 3 min)");
            }
            p.WaitForExit();
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
