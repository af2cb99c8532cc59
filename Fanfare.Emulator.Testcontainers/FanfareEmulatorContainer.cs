using System.Net;

namespace Fanfare.Emulator.Testcontainers;

/// <summary>
/// A running Fanfare Emulator: base addresses of its four APIs on this machine, the well-known keys of the default
/// seed's organization, and the QA helpers of the control plane (<c>/_emulator</c> on the admin port) in one call each.
/// </summary>
/// <inheritdoc cref="DockerContainer" />
public sealed class FanfareEmulatorContainer : DockerContainer
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
    private readonly Lazy<HttpClient> _control;

    /// <summary>Initializes a new instance of the <see cref="FanfareEmulatorContainer" /> class.</summary>
    /// <param name="configuration">The container configuration.</param>
    public FanfareEmulatorContainer(FanfareEmulatorConfiguration configuration)
        : base(configuration)
    {
        _control = new Lazy<HttpClient>(() => new HttpClient { BaseAddress = GetAdminBaseAddress(), Timeout = TimeSpan.FromSeconds(100) });
    }

    /// <summary>The default seed's first organization, "Fanfare Demo" (deterministic, public keys: local development only).</summary>
    public static FanfareOrganization DefaultOrganization { get; } = new(
        OrganizationId: "77545374-0f64-8b72-9773-503e10d6d32b",
        Name: "Fanfare Demo",
        Slug: "fanfare-demo",
        PublishableKey: "pk_test_sx4sr4v9h118rwmgyrznxfxbaz36c1d5",
        SecretKey: "sk_test_dvxwsxbb4p220764dft2jbtqf3txgcwn",
        LivePublishableKey: "pk_live_0mm3d51zyvhbbtf7rb9ee4v0g197vbc8",
        LiveSecretKey: "sk_live_8hcqs74xsjnf0zrk0z0ggavjchc35yzk",
        WebhookSecret: "whsec_ftpr9kbgpdpafz35vb1cj853fmt8kt8b",
        CustomerTokenSecret: "ctsec_test_gd0gym42zfvvbmm8v54x5n34acqfayd5",
        LiveCustomerTokenSecret: "ctsec_live_gj25s3vv7vv6jaww0hwy88j5t3jr0xz5");

    /// <summary>The default organization's test publishable key (<c>X-Publishable-Key</c> of consumer calls).</summary>
    public string PublishableKey => DefaultOrganization.PublishableKey;

    /// <summary>The default organization's test secret key (<c>Authorization: Bearer</c> of admin and server calls).</summary>
    public string SecretKey => DefaultOrganization.SecretKey;

    /// <summary>The default organization's webhook signing secret.</summary>
    public string WebhookSecret => DefaultOrganization.WebhookSecret;

    /// <summary>The default organization's id.</summary>
    public string OrganizationId => DefaultOrganization.OrganizationId;

    /// <summary>Admin API and control plane, e.g. <c>http://127.0.0.1:32768/</c>.</summary>
    public Uri GetAdminBaseAddress() => Address(FanfareEmulatorBuilder.AdminPort);

    /// <summary>Consumer API (also served under <c>/api</c> and <c>/api/v1</c>).</summary>
    public Uri GetConsumerBaseAddress() => Address(FanfareEmulatorBuilder.ConsumerPort);

    /// <summary>Checkout API.</summary>
    public Uri GetCheckoutBaseAddress() => Address(FanfareEmulatorBuilder.CheckoutPort);

    /// <summary>Beacon API.</summary>
    public Uri GetBeaconBaseAddress() => Address(FanfareEmulatorBuilder.BeaconPort);

    /// <summary>Every organization of the running seed with its keys (<c>GET /_emulator/organizations</c>).</summary>
    public async Task<IReadOnlyList<FanfareOrganization>> GetOrganizationsAsync(CancellationToken ct = default)
    {
        var list = await _control.Value.GetFromJsonAsync<OrganizationList>("/_emulator/organizations", JsonOptions, ct).ConfigureAwait(false);
        return list?.Organizations ?? [];
    }

    /// <summary>Back to the seed: data, inbox, SMS, scheduled work and clock (<c>POST /_emulator/reset</c>).</summary>
    public async Task ResetAsync(CancellationToken ct = default)
    {
        using var res = await _control.Value.PostAsync("/_emulator/reset", null, ct).ConfigureAwait(false);
        await EnsureSuccess(res, ct).ConfigureAwait(false);
    }

    /// <summary>Stops the emulator clock, now or at <paramref name="at" /> (<c>POST /_emulator/clock/freeze</c>).</summary>
    /// <returns>The frozen emulator time.</returns>
    public async Task<DateTimeOffset> FreezeClockAsync(DateTimeOffset? at = null, CancellationToken ct = default)
    {
        var body = at is { } t ? new Dictionary<string, string> { ["at"] = t.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture) } : new Dictionary<string, string>();
        return await ClockAsync("/_emulator/clock/freeze", body, ct).ConfigureAwait(false);
    }

    /// <summary>Moves the emulator clock forward; everything falling due on the way has run when this returns
    /// (<c>POST /_emulator/clock/advance</c>, whole seconds).</summary>
    /// <returns>The emulator time after the move.</returns>
    public async Task<DateTimeOffset> AdvanceClockAsync(TimeSpan by, CancellationToken ct = default)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), by, "The emulator clock only moves forward.");
        return await ClockAsync("/_emulator/clock/advance", new Dictionary<string, long> { ["seconds"] = (long)Math.Ceiling(by.TotalSeconds) }, ct).ConfigureAwait(false);
    }

    /// <summary>The newest email sent to <paramref name="to" />, waiting up to <paramref name="wait" /> (default 10 s,
    /// max 60 s) for one to arrive; <c>null</c> when none did (<c>GET /_emulator/inbox/latest</c>).</summary>
    public Task<FanfareEmail?> GetLatestEmailAsync(string to, TimeSpan? wait = null, CancellationToken ct = default) =>
        LatestAsync<FanfareEmail>("inbox", to, wait, ct);

    /// <summary>The newest SMS sent to <paramref name="to" /> (E.164), waiting up to <paramref name="wait" /> (default 10 s,
    /// max 60 s); <c>null</c> when none arrived (<c>GET /_emulator/sms/latest</c>).</summary>
    public Task<FanfareSms?> GetLatestSmsAsync(string to, TimeSpan? wait = null, CancellationToken ct = default) =>
        LatestAsync<FanfareSms>("sms", to, wait, ct);

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore()
    {
        if (_control.IsValueCreated) _control.Value.Dispose();
        return base.DisposeAsyncCore();
    }

    private Uri Address(ushort port) => new UriBuilder(Uri.UriSchemeHttp, Hostname, GetMappedPublicPort(port)).Uri;

    private async Task<DateTimeOffset> ClockAsync<T>(string path, T body, CancellationToken ct)
    {
        using var res = await _control.Value.PostAsJsonAsync(path, body, JsonOptions, ct).ConfigureAwait(false);
        await EnsureSuccess(res, ct).ConfigureAwait(false);
        var state = await res.Content.ReadFromJsonAsync<ClockState>(JsonOptions, ct).ConfigureAwait(false);
        return state!.Now;
    }

    private async Task<T?> LatestAsync<T>(string channel, string to, TimeSpan? wait, CancellationToken ct)
        where T : class
    {
        var seconds = Math.Clamp((wait ?? TimeSpan.FromSeconds(10)).TotalSeconds, 0, 60);
        var url = $"/_emulator/{channel}/latest?to={Uri.EscapeDataString(to)}&waitSeconds={seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        using var res = await _control.Value.GetAsync(url, ct).ConfigureAwait(false);
        if (res.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccess(res, ct).ConfigureAwait(false);
        return await res.Content.ReadFromJsonAsync<T>(JsonOptions, ct).ConfigureAwait(false);
    }

    private static async Task EnsureSuccess(HttpResponseMessage res, CancellationToken ct)
    {
        if (res.IsSuccessStatusCode) return;
        var body = await res.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        throw new HttpRequestException($"{res.RequestMessage?.Method} {res.RequestMessage?.RequestUri?.PathAndQuery} answered {(int)res.StatusCode}: {body}", null, res.StatusCode);
    }

    private sealed record OrganizationList(List<FanfareOrganization> Organizations);

    private sealed record ClockState(DateTimeOffset Now, string Mode, double? OffsetSeconds);
}

/// <summary>An organization of the emulator's seed and its deterministic keys (<c>GET /_emulator/organizations</c>).</summary>
public sealed record FanfareOrganization(
    string OrganizationId, string Name, string Slug, string PublishableKey, string SecretKey,
    string LivePublishableKey, string LiveSecretKey, string WebhookSecret, string CustomerTokenSecret, string LiveCustomerTokenSecret);

/// <summary>An email the emulator sent (<c>code</c>: the one-time code it carries, if any). Times in UTC.</summary>
public sealed record FanfareEmail(string Id, string? OrganizationId, string To, string? From, string? Subject, string? Text, string? Html, string? Code, DateTimeOffset SentAt);

/// <summary>An SMS the emulator sent (<c>to</c> in E.164; <c>code</c>: the one-time code it carries, if any). Times in UTC.</summary>
public sealed record FanfareSms(string Id, string? OrganizationId, string To, string? From, string? Body, string? Code, DateTimeOffset SentAt);
