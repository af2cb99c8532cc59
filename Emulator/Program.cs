using Fanfare.Emulator.Hosting;

// `Fanfare.Emulator healthcheck` exits 0 when the emulator on this machine answers GET /_emulator/health with 200
// (the Docker HEALTHCHECK; the image has no curl).
if (args.Length > 0 && args[0] == "healthcheck")
    return await HealthCheckCommand.RunAsync(args[1..]);

var app = EmulatorApp.Build(args);
try
{
    // Open the store before listening: a data directory this build cannot use is a one-line message and exit code 2.
    app.Services.GetRequiredService<Fanfare.Emulator.Infrastructure.Store.DocumentStore>();
}
catch (Fanfare.Emulator.Infrastructure.Store.DataDirectoryException e)
{
    Console.Error.WriteLine("emulator: " + e.Message);
    return 2;
}
await app.RunAsync();
return 0;

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
