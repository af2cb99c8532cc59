using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>
/// consumer-part1.md <c>POST /auth/refresh</c> and <c>POST /auth/logout</c>; behavior.md §2.4 (1 h access tokens, 30 d
/// refresh tokens, rotation) and §1.2 (401 <c>invalid refresh token</c>).
/// </summary>
public sealed class RefreshAndLogoutTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private const string InvalidRefresh = """{"error":"invalid refresh token"}""";
    private const string AuthRequired = """{"error":"Authentication required"}""";

    [Fact]
    public async Task Refresh_rotates_the_refresh_token_and_returns_the_documented_shape()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var now = await emu.FreezeClockAsync(new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var (consumerId, _, refresh) = await emu.GuestAsync(org.PublishableKey);
        await emu.AdvanceClockAsync(120);

        var r = (await emu.RefreshAsync(org.PublishableKey, refresh)).EnsureStatus(200);
        var body = r.Json!.AsObject();
        Assert.Equal(new[] { "accessToken", "accessTokenExpiresAt", "beaconToken", "refreshToken", "refreshTokenTtlSeconds" }, body.Select(p => p.Key).Order());
        Assert.NotEqual(refresh, r["refreshToken"].GetValue<string>());
        Assert.Equal(2592000, r["refreshTokenTtlSeconds"].GetValue<int>());
        Assert.Equal(now.AddSeconds(120 + 3600), DateTimeOffset.Parse(r["accessTokenExpiresAt"].GetValue<string>()));
        var access = r["accessToken"].GetValue<string>();
        Assert.Equal(consumerId, Jwt.Payload(access)["consumerId"]!.GetValue<string>());

        // The new tokens work: the access token logs out, the new refresh token refreshes.
        var next = (await emu.RefreshAsync(org.PublishableKey, r["refreshToken"].GetValue<string>())).EnsureStatus(200);
        (await emu.LogoutAsync(org.PublishableKey, next["accessToken"].GetValue<string>())).EnsureStatus(204);
    }

    [Fact]
    public async Task Reusing_a_refresh_token_is_refused_and_revokes_the_session()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var signedIn = await emu.EmailSignInAsync(org.PublishableKey, "rotate@example.com");
        var first = signedIn["refreshToken"]!.GetValue<string>();

        var second = (await emu.RefreshAsync(org.PublishableKey, first)).EnsureStatus(200);
        (await emu.RefreshAsync(org.PublishableKey, first)).AssertBody(401, InvalidRefresh);

        // Reuse revoked the whole session: the newest refresh token and its access token are refused too.
        (await emu.RefreshAsync(org.PublishableKey, second["refreshToken"].GetValue<string>())).AssertBody(401, InvalidRefresh);
        (await emu.LogoutAsync(org.PublishableKey, second["accessToken"].GetValue<string>())).AssertBody(401, AuthRequired);
    }

    [Fact]
    public async Task Garbage_missing_or_foreign_refresh_tokens_are_invalid()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var (_, access, refresh) = await emu.GuestAsync(orgs[0].PublishableKey);
        (await emu.RefreshAsync(orgs[0].PublishableKey, "nonsense")).AssertBody(401, InvalidRefresh);
        (await emu.Consumer.PostJsonAsync("/auth/refresh", new System.Text.Json.Nodes.JsonObject(), HttpClientExtensions.Pk(orgs[0].PublishableKey))).AssertBody(401, InvalidRefresh);
        (await emu.RefreshAsync(orgs[0].PublishableKey, access)).AssertBody(401, InvalidRefresh); // an access token is no refresh token
        (await emu.RefreshAsync(orgs[1].PublishableKey, refresh)).AssertBody(401, InvalidRefresh); // another organization's
        (await emu.RefreshAsync(orgs[0].PublishableKey, refresh)).EnsureStatus(200);
    }

    [Fact]
    public async Task Refresh_token_expires_after_thirty_days()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        var (_, _, refresh) = await emu.GuestAsync(org.PublishableKey);

        await emu.AdvanceClockAsync(29 * 86400);
        var rotated = (await emu.RefreshAsync(org.PublishableKey, refresh)).EnsureStatus(200)["refreshToken"].GetValue<string>();

        await emu.AdvanceClockAsync(30 * 86400);
        (await emu.RefreshAsync(org.PublishableKey, rotated)).AssertBody(401, InvalidRefresh);
    }

    [Fact]
    public async Task Access_token_expires_after_one_hour()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        var (_, early, _) = await emu.GuestAsync(org.PublishableKey);
        var (_, late, _) = await emu.GuestAsync(org.PublishableKey);

        await emu.AdvanceClockAsync(3540);
        (await emu.LogoutAsync(org.PublishableKey, early)).EnsureStatus(204);
        await emu.AdvanceClockAsync(60);
        (await emu.LogoutAsync(org.PublishableKey, late)).AssertBody(401, AuthRequired);
    }

    [Fact]
    public async Task Logout_is_204_and_revokes_the_session_tokens()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var signedIn = await emu.EmailSignInAsync(org.PublishableKey, "bye@example.com");
        var access = signedIn["accessToken"]!.GetValue<string>();
        var refresh = signedIn["refreshToken"]!.GetValue<string>();
        var (_, otherAccess, otherRefresh) = await emu.GuestAsync(org.PublishableKey);

        var r = await emu.LogoutAsync(org.PublishableKey, access);
        Assert.Equal(204, r.Code);
        Assert.Equal("", r.Text);

        (await emu.LogoutAsync(org.PublishableKey, access)).AssertBody(401, AuthRequired);
        (await emu.RefreshAsync(org.PublishableKey, refresh)).AssertBody(401, InvalidRefresh);
        // Other sessions are untouched.
        (await emu.RefreshAsync(org.PublishableKey, otherRefresh)).EnsureStatus(200);
        (await emu.LogoutAsync(org.PublishableKey, otherAccess)).EnsureStatus(204);
    }
}
