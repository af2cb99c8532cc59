using System.CommandLine;
using System.CommandLine.Parsing;

namespace Fanfare.Emulator.Hosting;

/// <summary>A start-up problem the user can fix (bad option value, missing seed file, port in use): one line on stderr,
/// non-zero exit, no stack trace.</summary>
public sealed class EmulatorStartupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The command line (System.CommandLine): <c>Fanfare.Emulator [options]</c> starts the emulator,
/// <c>Fanfare.Emulator healthcheck [url]</c> probes one (the Docker HEALTHCHECK). <c>--help</c>/<c>-h</c> and
/// <c>--version</c> print and exit 0; an unknown flag is an error (exit 1). Every option is also an
/// <see cref="EmulatorOptions"/> key (<c>--Emulator:Key=value</c> and <c>Emulator__Key</c> still work); flags win.
/// Exit codes: 0 stopped normally, 1 bad command line, 2 bad configuration (a value, a missing seed file, a snapshot file
/// that is missing or not a valid snapshot), 3 could not
/// start (a port in use …).
/// </summary>
public static class EmulatorCommandLine
{
    public const int BadUsage = 1, BadConfiguration = 2, CannotStart = 3;

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        StartupTimeline.Mark("main");
        // --Emulator:Key=value (or --Emulator:Key value) go to configuration as they are; the rest is parsed.
        var config = new List<string>();
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--" + EmulatorOptions.Section + ":", StringComparison.OrdinalIgnoreCase))
            {
                config.Add(args[i]);
                if (!args[i].Contains('=') && i + 1 < args.Length) config.Add(args[++i]);
            }
            else rest.Add(args[i]);
        }
        // No flags (configuration from the environment, as in the image and the bench): the root command would only serve
        // with `config`; skip building and running the parser (issue 15: start-up; System.CommandLine is not loaded).
        if (rest.Count == 0) return await ServeAsync(config.ToArray(), stderr);
        return await ParseAndRunAsync(rest, config, stdout, stderr);
    }

    // A method of its own: the state machine of RunAsync holds no System.CommandLine type, so serving without flags does
    // not load the assembly.
    private static async Task<int> ParseAndRunAsync(List<string> rest, List<string> config, TextWriter stdout, TextWriter stderr)
    {
        var adminPort = Port("--admin-port", "admin API and control plane port (default 4800)");
        var consumerPort = Port("--consumer-port", "consumer API port (default 4802)");
        var beaconPort = Port("--beacon-port", "beacon API port (default 4803)");
        var checkoutPort = Port("--checkout-port", "checkout API port (default 4805)");
        var bind = new Option<string?>("--bind") { Description = "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)", HelpName = "address" };
        var data = new Option<string?>("--data") { Description = "folder of the LiteDB store emulator.db (default .emulator-data in the current directory)", HelpName = "dir" };
        var inMemory = new Option<bool>("--in-memory") { Description = "keep state in memory only: nothing survives the process" };
        var seed = new Option<string?>("--seed") { Description = "seed file, relative to the current directory (default: the embedded seed/default.json)", HelpName = "file" };
        var snapshot = new Option<string?>("--snapshot") { Description = "snapshot file (GET /_emulator/state) to load at start instead of the seed; replaces what the data directory holds", HelpName = "file" };
        var otp = new Option<string?>("--otp-code") { Description = "every one-time code is this value (overrides the seed's otp.fixedCode)", HelpName = "code" };
        var smtpHost = new Option<string?>("--smtp-host") { Description = "also relay every email to this SMTP server (e.g. Mailpit)", HelpName = "host" };
        var smtpPort = Port("--smtp-port", "port of the SMTP relay (default 1025)");
        var cors = new Option<string[]>("--cors-origin") { Description = "origin browsers may call the APIs from; repeat for more (default: any)", HelpName = "origin", Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
        var rateLimits = new Option<string?>("--rate-limits") { Description = "rate-limit classes to enforce: none, all, or a comma list (default: authentication); headers are always sent", HelpName = "classes" };
        var rateScale = new Option<double?>("--rate-limit-scale") { Description = "multiply every documented rate limit by this factor (e.g. 0.01)", HelpName = "factor" };
        var noBanner = new Option<bool>("--no-banner") { Description = "do not print the well-known keys on start" };

        var root = new RootCommand($"Fanfare Emulator {EmulatorState.Version}: the Fanfare admin, consumer, beacon and checkout APIs and the /_emulator control plane in one local process.\n" +
            "Every option is also the configuration key Emulator:<Name> (--Emulator:AdminPort=4800, env Emulator__AdminPort=4800); see README.md, Configuration.")
        {
            adminPort, consumerPort, beaconPort, checkoutPort, bind, data, inMemory, seed, snapshot, otp, smtpHost, smtpPort, cors, rateLimits, rateScale, noBanner,
        };
        root.SetAction(async (result, _) =>
        {
            void Set<T>(Option<T> option, string key, Func<T, string?> format)
            {
                if (result.GetResult(option) is { Implicit: false } && result.GetValue(option) is { } v && format(v) is { } s)
                    config.Add($"--{EmulatorOptions.Section}:{key}={s}");
            }
            Set(adminPort, nameof(EmulatorOptions.AdminPort), v => v?.ToString());
            Set(consumerPort, nameof(EmulatorOptions.ConsumerPort), v => v?.ToString());
            Set(beaconPort, nameof(EmulatorOptions.BeaconPort), v => v?.ToString());
            Set(checkoutPort, nameof(EmulatorOptions.CheckoutPort), v => v?.ToString());
            Set(bind, nameof(EmulatorOptions.BindAddress), v => v);
            Set(data, nameof(EmulatorOptions.DataDirectory), v => v is null ? null : Path.GetFullPath(v));
            Set(inMemory, nameof(EmulatorOptions.InMemory), v => v ? "true" : null);
            Set(seed, nameof(EmulatorOptions.SeedFile), v => v is null ? null : Path.GetFullPath(v));
            Set(snapshot, nameof(EmulatorOptions.SnapshotFile), v => v is null ? null : Path.GetFullPath(v));
            Set(otp, nameof(EmulatorOptions.OtpFixedCode), v => v);
            Set(smtpHost, nameof(EmulatorOptions.SmtpHost), v => v);
            Set(smtpPort, nameof(EmulatorOptions.SmtpPort), v => v?.ToString());
            if (result.GetValue(cors) is { Length: > 0 } origins)
                for (int i = 0; i < origins.Length; i++) config.Add($"--{EmulatorOptions.Section}:{nameof(EmulatorOptions.CorsOrigins)}:{i}={origins[i]}");
            Set(rateLimits, nameof(EmulatorOptions.RateLimitEnforce), v => v);
            Set(rateScale, nameof(EmulatorOptions.RateLimitScale), v => v?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Set(noBanner, nameof(EmulatorOptions.Banner), v => v ? "false" : null);
            return await ServeAsync(config.ToArray(), stderr);
        });

        var url = new Argument<string?>("url") { Description = "health URL (default http://127.0.0.1:$Emulator__AdminPort/_emulator/health)", Arity = ArgumentArity.ZeroOrOne };
        var health = new Command("healthcheck", "exit 0 when the emulator answers GET /_emulator/health with 200, else 1 (the Docker HEALTHCHECK; no curl needed)") { url };
        health.SetAction((result, _) => HealthCheckCommand.RunAsync(result.GetValue(url) is { } u ? [u] : []));
        root.Add(health);

        // --version prints this assembly's version (the default reads the entry assembly, which is not us under a test host).
        if (root.Options.OfType<VersionOption>().FirstOrDefault() is { } version) version.Action = new PrintVersion();

        var parsed = root.Parse(rest);
        // Signals are the web host's (docker stop → graceful shutdown, exit 0), not the parser's.
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null });
    }

    private sealed class PrintVersion : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(EmulatorState.Version);
            return 0;
        }
    }

    private static Option<int?> Port(string name, string description) => new(name)
    {
        Description = description, HelpName = "port",
        Validators = { r => { if (r.GetValueOrDefault<int?>() is { } p && (p < 1 || p > 65535)) r.AddError($"{name}: {p} is not a port (1-65535)"); } },
    };

    /// <summary>Builds and runs the emulator; a start-up failure is one line on <paramref name="stderr"/>.</summary>
    private static async Task<int> ServeAsync(string[] configArgs, TextWriter stderr)
    {
        StartupTimeline.Mark("command-line");
        WebApplication app;
        try { app = EmulatorApp.Build(configArgs); }
        catch (Exception e) when (e is EmulatorStartupException or Infrastructure.Store.DataDirectoryException)
        {
            stderr.WriteLine($"Fanfare.Emulator: {e.Message}");
            return BadConfiguration;
        }
        try
        {
            // Open the store before listening: a data directory this build cannot use (an old SQLite one) is one line, exit 2.
            app.Services.GetRequiredService<Infrastructure.Store.DocumentStore>();
            StartupTimeline.Mark("store-open");
        }
        catch (Infrastructure.Store.DataDirectoryException e)
        {
            stderr.WriteLine($"Fanfare.Emulator: {e.Message}");
            await app.DisposeAsync();
            return BadConfiguration;
        }
        try { await app.StartAsync(); StartupTimeline.Mark("listening"); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bad file found while starting (a snapshot that is not valid) reads like the other configuration errors.
            var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
            stderr.WriteLine(inner is EmulatorStartupException ? $"Fanfare.Emulator: {OneLine(inner)}" : $"Fanfare.Emulator: cannot start: {OneLine(e)}");
            await app.DisposeAsync();
            return inner is EmulatorStartupException ? BadConfiguration : CannotStart;
        }
        await app.WaitForShutdownAsync();
        await app.DisposeAsync();
        return 0;
    }

    private static string OneLine(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
        return inner.Message.ReplaceLineEndings(" ");
    }
}
