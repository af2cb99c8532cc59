using System.Text;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>
/// The cache of already-verified token signatures (Emulator/Auth/Tokens/TokenService.cs, issue 15) remembers only that a
/// signature is good: each request still checks expiry on the emulator clock and the session (logout, refresh-token
/// reuse), and a changed token string is verified in full. Every test uses the access token first, so it is cached.
/// </summary>
public sealed class VerifiedTokenCacheTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private const string AuthRequired = """{"error":"Authentication required"}""";

    private Task<ApiResponse> MeAsync(string pk, string accessToken) => emu.Consumer.GetAsync("/consumers/me", Pk(pk, accessToken));

    [Fact]
    public async Task A_cached_token_is_refused_on_the_request_right_after_logout()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var access = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200)["accessToken"].GetValue<string>();
        (await MeAsync(org.PublishableKey, access)).EnsureStatus(200);
        (await MeAsync(org.PublishableKey, access)).EnsureStatus(200);

        (await emu.LogoutAsync(org.PublishableKey, access)).EnsureStatus(204);
        (await MeAsync(org.PublishableKey, access)).AssertBody(401, AuthRequired);
    }

    [Fact]
    public async Task A_cached_token_is_refused_after_its_session_was_revoked_by_refresh_token_reuse()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var guest = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200);
        var firstAccess = guest["accessToken"].GetValue<string>();
        var firstRefresh = guest["refreshToken"].GetValue<string>();
        (await MeAsync(org.PublishableKey, firstAccess)).EnsureStatus(200);

        var rotated = (await emu.RefreshAsync(org.PublishableKey, firstRefresh)).EnsureStatus(200);
        var secondAccess = rotated["accessToken"].GetValue<string>();
        (await MeAsync(org.PublishableKey, secondAccess)).EnsureStatus(200);
        (await MeAsync(org.PublishableKey, firstAccess)).EnsureStatus(200); // rotation alone does not revoke

        (await emu.RefreshAsync(org.PublishableKey, firstRefresh)).EnsureStatus(401); // reuse: the session is revoked
        (await MeAsync(org.PublishableKey, secondAccess)).AssertBody(401, AuthRequired);
        (await MeAsync(org.PublishableKey, firstAccess)).AssertBody(401, AuthRequired);
    }

    [Fact]
    public async Task A_cached_token_is_refused_once_it_expires_on_a_frozen_clock()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync(new DateTimeOffset(2031, 3, 4, 5, 6, 7, TimeSpan.Zero));
        var guest = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200);
        var access = guest["accessToken"].GetValue<string>();
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Jwt.Payload(access)["exp"]!.GetValue<long>());
        (await MeAsync(org.PublishableKey, access)).EnsureStatus(200);

        await emu.FreezeClockAsync(expiresAt.AddSeconds(-1));
        (await MeAsync(org.PublishableKey, access)).EnsureStatus(200); // the last second of its life
        await emu.FreezeClockAsync(expiresAt.AddSeconds(1));
        (await MeAsync(org.PublishableKey, access)).AssertBody(401, AuthRequired); // the second after it expired
    }

    [Fact]
    public async Task A_tampered_or_foreign_token_is_refused_although_the_original_is_cached()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        Assert.True(orgs.Count >= 2, "the default seed has two organizations");
        var (a, b) = (orgs[0], orgs[1]);
        var access = (await emu.PostGuestAsync(a.PublishableKey)).EnsureStatus(200)["accessToken"].GetValue<string>();
        (await MeAsync(a.PublishableKey, access)).EnsureStatus(200);

        // Same signature, another consumer in the payload.
        var parts = access.Split('.');
        var forged = Jwt.Payload(access);
        forged["consumerId"] = "cns_someone_else";
        forged["sub"] = "cns_someone_else";
        (await MeAsync(a.PublishableKey, parts[0] + "." + B64(forged) + "." + parts[2])).AssertBody(401, AuthRequired);

        // Another organization's token relabelled as this one's (signed with the other key).
        var foreign = (await emu.PostGuestAsync(b.PublishableKey)).EnsureStatus(200)["accessToken"].GetValue<string>();
        (await MeAsync(b.PublishableKey, foreign)).EnsureStatus(200);
        var fparts = foreign.Split('.');
        var relabelled = Jwt.Payload(foreign);
        relabelled["organizationId"] = a.Id;
        relabelled["org"] = a.Id;
        (await MeAsync(a.PublishableKey, fparts[0] + "." + B64(relabelled) + "." + fparts[2])).AssertBody(401, AuthRequired);
        // The genuine foreign token with this organization's key: two organizations in one request.
        (await MeAsync(a.PublishableKey, foreign)).AssertBody(401, AuthRequired);

        // The original still works.
        (await MeAsync(a.PublishableKey, access)).EnsureStatus(200);
    }

    private static string B64(JsonObject o) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(o.ToJsonString())).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
