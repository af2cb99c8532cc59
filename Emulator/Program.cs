using Fanfare.Emulator.Hosting;

// `Fanfare.Emulator healthcheck` exits 0 when the emulator on this machine answers GET /_emulator/health with 200
// (the Docker HEALTHCHECK; the image has no curl).
if (args.Length > 0 && args[0] == "healthcheck")
    return await HealthCheckCommand.RunAsync(args[1..]);

var app = EmulatorApp.Build(args);
await app.RunAsync();
return 0;

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
