using System.Net;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Auth.CustomerTokens;

/// <summary>
/// Client-side security over HTTP: enforcement on/off, token formats, expiry by the emulator clock, read-only refusal,
/// consumer mismatch, exemptions and environments. <c>POST /auth/logout</c> stands for a writing consumer route and an
/// unrouted consumer path (<see cref="Probe"/>, 404 once past the middleware) for a reading one.
/// </summary>
public class CustomerTokenEnforcementTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    /// <summary>A consumer path no route serves: the middleware runs before routing, so it stands for any GET route.</summary>
    private const string Probe = "/customer-token-probe";

    private static Dictionary<string, string> Headers(string pk, string? token = null, string? bearer = null)
    {
        var h = HttpClientExtensions.Pk(pk, bearer);
        if (token is not null) h["X-Customer-Token"] = token;
        return h;
    }

    private async Task<(OrgKeys Org, string LiveCustomerTokenSecret)> OrgAsync()
    {
        var org = await emu.DemoOrgAsync();
        var raw = await emu.Control.GetJsonAsync("/_emulator/organizations");
        return (org, raw["organizations"]![0]!["liveCustomerTokenSecret"]!.GetValue<string>());
    }

    private async Task EnforceAsync(string orgId, string environment, bool enforced)
    {
        var r = await emu.Control.SendJsonAsync(HttpMethod.Put, $"/_emulator/organizations/{orgId}/client-side-security",
            new JsonObject { ["environment"] = environment, ["enforced"] = enforced });
        r.EnsureStatus(200);
        Assert.Equal(enforced, r[environment]["enforced"]!.GetValue<bool>());
    }

    private Task<ApiResponse> LogoutAsync(string pk, string bearer, string? token) =>
        emu.Consumer.PostJsonAsync("/auth/logout", null, Headers(pk, token, bearer));

    private Task<ApiResponse> ProbeAsync(string pk, string? token, HttpMethod? method = null, string? bearer = null) =>
        emu.Consumer.SendAsync(method ?? HttpMethod.Get, Probe, null, Headers(pk, token, bearer));

    private static void AssertError(ApiResponse r, int status, string message, string code)
    {
        r.EnsureStatus(status);
        var traceId = r["errors"][0]!["extensions"]!["traceId"]!.GetValue<string>();
        Assert.True(Guid.TryParse(traceId, out _), traceId);
        var expected = $$$"""{"errors":[{"message":"{{{message}}}","extensions":{"isValidationError":true,"code":"{{{code}}}","traceId":"{{{traceId}}}"}}],"data":null}""";
        Assert.Equal(expected, r.Text);
        Assert.Equal(traceId, Assert.Single(r.Headers.GetValues("X-Trace-Id")));
    }

    [Fact]
    public async Task Not_enforced_by_default_tokens_are_ignored()
    {
        await emu.ResetAsync();
        var (org, _) = await OrgAsync();
        var state = await emu.Control.GetJsonAsync($"/_emulator/organizations/{org.Id}/client-side-security");
        Assert.False(state["test"]!["enforced"]!.GetValue<bool>());
        Assert.False(state["live"]!["enforced"]!.GetValue<bool>());

        var a = await emu.GuestAsync(org.PublishableKey);
        (await LogoutAsync(org.PublishableKey, a.AccessToken, null)).EnsureStatus(204);
        var b = await emu.GuestAsync(org.PublishableKey);
        (await LogoutAsync(org.PublishableKey, b.AccessToken, "garbage")).EnsureStatus(204);
        (await ProbeAsync(org.PublishableKey, "HMAC-SHA256 ro:exp:1:x:00")).EnsureStatus(404);
    }

    [Fact]
    public async Task Enforced_missing_token_is_401_invalid_format_with_a_fresh_trace_id_each_time()
    {
        await emu.ResetAsync();
        var (org, _) = await OrgAsync();
        await EnforceAsync(org.Id, "test", true);
        var guest = await emu.GuestAsync(org.PublishableKey); // /auth/guest is exempt

        var first = await LogoutAsync(org.PublishableKey, guest.AccessToken, null);
        AssertError(first, 401, "Customer token has invalid format", "Unauthenticated");
        var second = await ProbeAsync(org.PublishableKey, null);
        AssertError(second, 401, "Customer token has invalid format", "Unauthenticated");
        Assert.NotEqual(first.Headers.GetValues("X-Trace-Id").Single(), second.Headers.GetValues("X-Trace-Id").Single());
        // every path form of the consumer API is covered
        AssertError(await emu.Consumer.PostJsonAsync("/api/v1/auth/logout", null, Headers(org.PublishableKey, null, guest.AccessToken)),
            401, "Customer token has invalid format", "Unauthenticated");
        // the session was not revoked by the refused calls
        var token = CustomerTokenFormatTests.Signed(guest.ConsumerId, org.CustomerTokenSecret);
        (await LogoutAsync(org.PublishableKey, guest.AccessToken, token)).EnsureStatus(204);
        // turning it off restores the old behaviour
        await EnforceAsync(org.Id, "test", false);
        (await ProbeAsync(org.PublishableKey, null)).EnsureStatus(404);
    }

    [Fact]
    public async Task Each_valid_format_passes_and_each_invalid_one_is_refused()
    {
        await emu.ResetAsync();
        var (org, _) = await OrgAsync();
        var guest = await emu.GuestAsync(org.PublishableKey);
        await EnforceAsync(org.Id, "test", true);
        var id = guest.ConsumerId;
        var exp = (await emu.FreezeClockAsync()).ToUnixTimeSeconds() + 3600;
        string S(string payload) => CustomerTokenFormatTests.Signed(payload, org.CustomerTokenSecret);

        foreach (var payload in new[] { id, $"ro:{id}", $"exp:{exp}:{id}", $"exp:{exp}:ro:{id}" })
            (await ProbeAsync(org.PublishableKey, S(payload))).EnsureStatus(404);

        foreach (var payload in new[] { $"ro:exp:{exp}:{id}", $"exp:{exp}0:{id}", $"exp:{exp}{id}", $"exp:{exp}:", "ro:", "" })
            AssertError(await ProbeAsync(org.PublishableKey, S(payload)), 401, "Customer token has invalid format", "Unauthenticated");

        var sig = S(id)[^64..];
        foreach (var token in new[] { $"{id}:{sig}", $"HMAC-SHA256 {id}{sig}", $"HMAC-SHA256 {id}", "HMAC-SHA256 " })
            AssertError(await ProbeAsync(org.PublishableKey, token), 401, "Customer token has invalid format", "Unauthenticated");

        AssertError(await ProbeAsync(org.PublishableKey, CustomerTokenFormatTests.Signed(id, "not-the-secret")),
            401, "Customer token has invalid signature", "Unauthenticated");
        AssertError(await ProbeAsync(org.PublishableKey, $"HMAC-SHA256 ro:{id}:{sig}"),
            401, "Customer token has invalid signature", "Unauthenticated");

        // a valid plain token on a writing route
        (await LogoutAsync(org.PublishableKey, guest.AccessToken, S(id))).EnsureStatus(204);
    }

    [Fact]
    public async Task Expiry_follows_the_emulator_clock()
    {
        await emu.ResetAsync();
        var (org, _) = await OrgAsync();
        await EnforceAsync(org.Id, "test", true);
        var now = await emu.FreezeClockAsync();
        var minted = await emu.Control.PostJsonAsync("/_emulator/customer-tokens", new JsonObject
        {
            ["customerId"] = "cust_1", ["expiresAt"] = now.ToUnixTimeSeconds() + 60,
        });
        var token = minted.EnsureStatus(200)["token"].GetValue<string>();
        Assert.Equal($"HMAC-SHA256 exp:{now.ToUnixTimeSeconds() + 60}:cust_1:", token[..^64]);

        (await ProbeAsync(org.PublishableKey, token)).EnsureStatus(404);
        await emu.AdvanceClockAsync(59);
        (await ProbeAsync(org.PublishableKey, token)).EnsureStatus(404);
        await emu.AdvanceClockAsync(1);
        AssertError(await ProbeAsync(org.PublishableKey, token), 401, "Customer token has expired", "Unauthenticated");

        var verify = await emu.Control.PostJsonAsync("/_emulator/customer-tokens/verify", new JsonObject { ["token"] = token });
        Assert.False(verify.EnsureStatus(200)["valid"].GetValue<bool>());
        Assert.Equal("expired", verify["reason"].GetValue<string>());
        Assert.Equal("cust_1", verify["customerId"].GetValue<string>());
    }

    [Fact]
    public async Task Read_only_tokens_may_only_get_or_head()
    {
        await emu.ResetAsync();
        var (org, _) = await OrgAsync();
        var guest = await emu.GuestAsync(org.PublishableKey);
        await EnforceAsync(org.Id, "test", true);
        var ro = CustomerTokenFormatTests.Signed("ro:" + guest.ConsumerId, org.CustomerTokenSecret);

        (await ProbeAsync(org.PublishableKey, ro)).EnsureStatus(404);
        (await ProbeAsync(org.PublishableKey, ro, HttpMethod.Head)).EnsureStatus(404);
        AssertError(await ProbeAsync(org.PublishableKey, ro, HttpMethod.Delete), 403, "Customer token is read-only", "Forbidden");
        AssertError(await LogoutAsync(org.PublishableKey, guest.AccessToken, ro), 403, "Customer token is read-only", "Forbidden");
        // still signed in: the refused logout did nothing
        var rw = CustomerTokenFormatTests.Signed(guest.ConsumerId, org.CustomerTokenSecret);
        (await LogoutAsync(org.PublishableKey, guest.AccessToken, rw)).EnsureStatus(204);
    }

    [Fact]
    public async Task A_token_for_another_customer_than_the_signed_in_consumer_is_403()
    {
        await emu.ResetAsync();
        var (org, _) = await OrgAsync();
        var a = await emu.GuestAsync(org.PublishableKey);
        var b = await emu.GuestAsync(org.PublishableKey);
        await EnforceAsync(org.Id, "test", true);
        string S(string id) => CustomerTokenFormatTests.Signed(id, org.CustomerTokenSecret);

        AssertError(await LogoutAsync(org.PublishableKey, b.AccessToken, S(a.ConsumerId)), 403,
            "Customer token does not match the signed-in consumer", "Forbidden");
        AssertError(await LogoutAsync(org.PublishableKey, b.AccessToken, S("nobody")), 403,
            "Customer token does not match the signed-in consumer", "Forbidden");
        AssertError(await ProbeAsync(org.PublishableKey, S("ro:" + a.ConsumerId), bearer: b.AccessToken), 403,
            "Customer token does not match the signed-in consumer", "Forbidden");
        // without a bearer token the customer id is taken as given
        (await ProbeAsync(org.PublishableKey, S(a.ConsumerId))).EnsureStatus(404);
        (await LogoutAsync(org.PublishableKey, b.AccessToken, S(b.ConsumerId))).EnsureStatus(204);
    }

    [Fact]
    public async Task The_subject_of_an_external_identity_names_its_consumer()
    {
        await emu.ResetAsync();
        var (org, _) = await OrgAsync();
        await EnforceAsync(org.Id, "test", true);
        var auth = await emu.Consumer.PostJsonAsync("/auth/external/authorize", new JsonObject
        {
            ["provider"] = "auth0", ["issuer"] = "https://acme.example/", ["subject"] = "auth0|user-42",
        }, HttpClientExtensions.Sk(org.SecretKey));
        var code = auth.EnsureStatus(200)["exchangeCode"].GetValue<string>();
        var session = (await emu.Consumer.PostJsonAsync("/auth/external/exchange", new JsonObject { ["exchangeCode"] = code },
            Headers(org.PublishableKey))).EnsureStatus(200); // exempt: pre-session
        var consumerId = session["session"]["consumerId"]!.GetValue<string>();
        var accessToken = session["accessToken"].GetValue<string>();

        var verify = await emu.Control.PostJsonAsync("/_emulator/customer-tokens/verify", new JsonObject
        {
            ["token"] = CustomerTokenFormatTests.Signed("auth0|user-42", org.CustomerTokenSecret),
        });
        Assert.True(verify.EnsureStatus(200)["valid"].GetValue<bool>());
        Assert.Equal(consumerId, verify["consumerIds"][0]!.GetValue<string>());

        var other = await emu.GuestAsync(org.PublishableKey);
        var bySubject = CustomerTokenFormatTests.Signed("auth0|user-42", org.CustomerTokenSecret);
        AssertError(await LogoutAsync(org.PublishableKey, other.AccessToken, bySubject), 403,
            "Customer token does not match the signed-in consumer", "Forbidden");
        (await LogoutAsync(org.PublishableKey, accessToken, bySubject)).EnsureStatus(204);
    }

    [Fact]
    public async Task Exempt_routes_and_non_publishable_callers_need_no_token()
    {
        await emu.ResetAsync();
        var (org, _) = await OrgAsync();
        await EnforceAsync(org.Id, "test", true);
        var pk = Headers(org.PublishableKey);

        (await emu.Consumer.GetAsync("/.well-known/jwks.json", pk)).EnsureStatus(200);
        (await emu.Consumer.GetAsync("/health", pk)).EnsureStatus(200);
        (await emu.Consumer.GetAsync("/openapi/v1.json", pk)).EnsureStatus(200);
        (await emu.Consumer.GetAsync("/_emulator/clock", pk)).EnsureStatus(200);
        var session = (await emu.Consumer.PostJsonAsync("/auth/guest", null, pk)).EnsureStatus(200);
        (await emu.Consumer.PostJsonAsync("/auth/otp/request", new JsonObject { ["email"] = "demo@fanfare.test" }, pk)).EnsureStatus(200);
        (await emu.Consumer.PostJsonAsync("/api/auth/refresh", new JsonObject { ["refreshToken"] = session["refreshToken"].GetValue<string>() }, pk))
            .EnsureStatus(200);
        (await emu.Consumer.SendAsync(HttpMethod.Options, Probe, null, pk)).EnsureStatus(404);

        // a secret key, an unknown key, no key: enforcement is about publishable keys only
        (await emu.Consumer.GetAsync(Probe, HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(404);
        (await emu.Consumer.GetAsync(Probe, new Dictionary<string, string>())).EnsureStatus(404);
        (await emu.Consumer.GetAsync(Probe, Headers("pk_test_unknown"))).EnsureStatus(404);
        // other organizations are not affected
        var acme = (await emu.OrganizationsAsync())[1];
        (await emu.Consumer.GetAsync(Probe, Headers(acme.PublishableKey))).EnsureStatus(404);
        // the admin port is not the consumer API
        (await emu.Admin.GetAsync("/.well-known/jwks.json", pk)).EnsureStatus(200);
    }

    [Fact]
    public async Task Environments_have_their_own_flag_and_secret()
    {
        await emu.ResetAsync();
        var (org, liveSecret) = await OrgAsync();
        Assert.NotEqual(org.CustomerTokenSecret, liveSecret);
        await EnforceAsync(org.Id, "live", true);

        (await ProbeAsync(org.PublishableKey, null)).EnsureStatus(404); // test keys: not enforced
        AssertError(await ProbeAsync(org.LivePublishableKey, null), 401, "Customer token has invalid format", "Unauthenticated");
        AssertError(await ProbeAsync(org.LivePublishableKey, CustomerTokenFormatTests.Signed("cust_1", org.CustomerTokenSecret)),
            401, "Customer token has invalid signature", "Unauthenticated");
        (await ProbeAsync(org.LivePublishableKey, CustomerTokenFormatTests.Signed("cust_1", liveSecret))).EnsureStatus(404);

        var minted = await emu.Control.PostJsonAsync("/_emulator/customer-tokens", new JsonObject
        {
            ["organizationId"] = org.Id, ["environment"] = "live", ["customerId"] = "cust_1",
        });
        Assert.Equal(CustomerTokenFormatTests.Signed("cust_1", liveSecret), minted.EnsureStatus(200)["token"].GetValue<string>());
    }

    [Fact]
    public async Task Reset_clears_the_flag()
    {
        await emu.ResetAsync();
        var (org, _) = await OrgAsync();
        await EnforceAsync(org.Id, "test", true);
        (await ProbeAsync(org.PublishableKey, null)).EnsureStatus(401);
        await emu.ResetAsync();
        (await ProbeAsync(org.PublishableKey, null)).EnsureStatus(404);
    }
}
