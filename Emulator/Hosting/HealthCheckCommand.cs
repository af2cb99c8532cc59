namespace Fanfare.Emulator.Hosting;

/// <summary><c>Fanfare.Emulator healthcheck [url]</c>: 0 when <c>/_emulator/health</c> answers 200, else 1.</summary>
public static class HealthCheckCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var port = Environment.GetEnvironmentVariable("Emulator__AdminPort") ?? "4800";
        var url = args.Length > 0 ? args[0] : $"http://127.0.0.1:{port}/_emulator/health";
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
            using var res = await http.GetAsync(url);
            return res.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"healthcheck: {ex.Message}");
            return 1;
        }
    }
}
