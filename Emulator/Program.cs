using Fanfare.Emulator.Hosting;

// `Fanfare.Emulator [options]` runs the emulator; `--help` lists the options; `Fanfare.Emulator healthcheck [url]`
// exits 0 when the emulator on this machine answers GET /_emulator/health with 200 (the Docker HEALTHCHECK; the image
// has no curl). See Hosting/CommandLine.cs.
return await EmulatorCommandLine.RunAsync(args);

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
