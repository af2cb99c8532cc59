namespace Fanfare.Emulator.Hosting;

/// <summary>
/// Emulator configuration, bound from the <c>Emulator</c> configuration section
/// (environment variables <c>Emulator__AdminPort</c>, <c>Emulator__DataDirectory</c> … or command-line
/// <c>--Emulator:AdminPort=4800</c>). Every value has a working default so <c>dotnet run --project Emulator</c> needs none.
/// </summary>
public sealed class EmulatorOptions
{
    public const string Section = "Emulator";

    /// <summary>Address Kestrel binds to. <c>127.0.0.1</c> by default, <c>0.0.0.0</c> in the Docker image.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";
    /// <summary>Admin API port (behavior.md §1.1: local admin base <c>http://localhost:4800</c>).</summary>
    public int AdminPort { get; set; } = 4800;
    /// <summary>Consumer API port (<c>http://localhost:4802</c>).</summary>
    public int ConsumerPort { get; set; } = 4802;
    /// <summary>Beacon API port (<c>http://localhost:4803</c>).</summary>
    public int BeaconPort { get; set; } = 4803;
    /// <summary>Checkout API port (<c>http://localhost:4805</c>).</summary>
    public int CheckoutPort { get; set; } = 4805;

    /// <summary>Folder holding <c>emulator.db</c>. Relative paths resolve against the working directory.</summary>
    public string DataDirectory { get; set; } = ".emulator-data";
    /// <summary>When true the store is an in-memory LiteDB database (tests); nothing survives the process.</summary>
    public bool InMemory { get; set; }

    /// <summary>Seed file. Empty = the embedded <c>seed/default.json</c> shipped next to the binary.</summary>
    public string? SeedFile { get; set; }

    /// <summary>Snapshot file (<c>GET /_emulator/state</c>) loaded at start instead of the seed, replacing whatever the
    /// data directory holds (flag <c>--snapshot</c>, env <c>Emulator__SnapshotFile</c>). Empty = none.</summary>
    public string? SnapshotFile { get; set; }

    /// <summary>Access-token lifetime in seconds (behavior.md §2.4: 1 hour).</summary>
    public int AccessTokenTtlSeconds { get; set; } = 3600;
    /// <summary>Refresh-token lifetime in seconds (behavior.md §2.4: 30 days = 2592000).</summary>
    public int RefreshTokenTtlSeconds { get; set; } = 2592000;
    /// <summary>One-time code lifetime in seconds (behavior.md §2.2: 10 minutes).</summary>
    public int OtpTtlSeconds { get; set; } = 600;
    /// <summary>Wrong tries allowed per one-time code before it is burned.</summary>
    public int OtpMaxAttempts { get; set; } = 5;
    /// <summary>OTP requests allowed per recipient per minute (behavior.md §5: 10/min).</summary>
    public int OtpRequestsPerMinute { get; set; } = 10;
    /// <summary>When set, every one-time code is this value (overrides the seed's <c>otp.fixedCode</c>).</summary>
    public string? OtpFixedCode { get; set; }

    /// <summary>Optional SMTP relay: every email the inbox receives is also sent to this host (e.g. Mailpit).</summary>
    public string? SmtpHost { get; set; }
    public int SmtpPort { get; set; } = 1025;
    /// <summary>Optional SMTP user name for the relay (AUTH after STARTTLS when the server offers it).</summary>
    public string? SmtpUser { get; set; }
    /// <summary>Password of <see cref="SmtpUser"/>.</summary>
    public string? SmtpPassword { get; set; }
    /// <summary>Seconds the relay waits for the SMTP server (connect, each command) before giving up on a message.</summary>
    public int SmtpTimeoutSeconds { get; set; } = 10;

    /// <summary>How often (milliseconds) the background pump runs scheduled work that fell due in real time.</summary>
    public int SchedulerIntervalMs { get; set; } = 250;

    /// <summary>Origins browsers may call the emulator from, besides loopback ones (<c>http(s)://localhost:*</c>,
    /// <c>127.0.0.1:*</c>, <c>[::1]:*</c>, always allowed). Exact origins widen the APIs and the control plane; <c>*</c> opens the
    /// APIs (never <c>/_emulator/*</c>) to any origin. Env: <c>Emulator__CorsOrigins__0=…</c>. See EmulatorCorsPolicyProvider.</summary>
    public string[] CorsOrigins { get; set; } = [];

    /// <summary>Rate-limit classes enforced (429) at start: <c>none</c>, <c>all</c>, or a comma list of class names
    /// (behavior.md §5; see <c>Infrastructure/RateLimits</c>). Default: <c>authentication</c> only. Every response
    /// carries the <c>X-RateLimit-*</c> headers whatever this says. <c>POST /_emulator/rate-limits</c> changes it live.</summary>
    public string RateLimitEnforce { get; set; } = "authentication";
    /// <summary>Factor applied to every documented rate limit (e.g. <c>0.01</c> so a test provokes a 429 quickly).</summary>
    public double RateLimitScale { get; set; } = 1;

    /// <summary>Print the well-known keys banner on start.</summary>
    public bool Banner { get; set; } = true;

    /// <summary>How many API requests the request journal keeps (<c>GET /_emulator/requests</c>); 0 turns it off.</summary>
    public int RequestJournalSize { get; set; } = 1000;

    /// <summary>Bytes of each request and response body the journal keeps (the rest is cut, and the entry says so).</summary>
    public int RequestJournalBodyLimit { get; set; } = 8192;
}
