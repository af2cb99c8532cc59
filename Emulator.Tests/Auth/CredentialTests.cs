using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>behavior.md §1.2: the credential headers, and the 401 bodies when they are missing, unknown or too weak.</summary>
public sealed class CredentialTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Publishable_key_header_opens_a_guest_session()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var r = (await emu.PostGuestAsync(org.PublishableKey)).EnsureStatus(200);
        Assert.Equal(org.Id, Jwt.Payload(r["accessToken"].GetValue<string>())["organizationId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Secret_key_as_bearer_and_as_organization_id_plus_secret_key_headers_both_authorize()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();

        (await emu.Consumer.PostJsonAsync("/auth/external/authorize", AuthSteps.Identity("bearer-sub"), Sk(org.SecretKey))).EnsureStatus(200);

        var pair = new Dictionary<string, string> { ["X-Organization-Id"] = org.Id, ["X-Secret-Key"] = org.SecretKey };
        var r = (await emu.Consumer.PostJsonAsync("/auth/external/authorize", AuthSteps.Identity("header-sub"), pair)).EnsureStatus(200);
        Assert.StartsWith("exc_", r["exchangeCode"].GetValue<string>());

        // The organization id must be the key's own.
        var other = (await emu.OrganizationsAsync())[1];
        var mismatched = new Dictionary<string, string> { ["X-Organization-Id"] = other.Id, ["X-Secret-Key"] = org.SecretKey };
        (await emu.Consumer.PostJsonAsync("/auth/external/authorize", AuthSteps.Identity("header-sub"), mismatched))
            .AssertBody(401, """{"error":"Authentication required"}""");
    }

    [Fact]
    public async Task Missing_or_unknown_credentials_are_401_authentication_required()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        const string required = """{"error":"Authentication required"}""";

        (await emu.Consumer.PostJsonAsync("/auth/guest")).AssertBody(401, required);
        (await emu.Consumer.PostJsonAsync("/auth/guest", null, Pk("pk_test_unknownunknownunknownunknown"))).AssertBody(401, required);
        (await emu.Consumer.PostJsonAsync("/auth/otp/request", new JsonObject { ["email"] = "a@example.com" })).AssertBody(401, required);
        (await emu.Consumer.PostJsonAsync("/auth/external/authorize", AuthSteps.Identity("s"))).AssertBody(401, required);
        (await emu.Consumer.PostJsonAsync("/auth/external/authorize", AuthSteps.Identity("s"), Sk("sk_test_nope"))).AssertBody(401, required);
        (await emu.Consumer.PostJsonAsync("/auth/logout", null, Pk(org.PublishableKey))).AssertBody(401, required);
        (await emu.Consumer.PostJsonAsync("/auth/logout", null, Pk(org.PublishableKey, "not.a.jwt"))).AssertBody(401, required);
    }

    [Fact]
    public async Task Publishable_key_on_authorize_is_401_secret_key_required()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.Consumer.PostJsonAsync("/auth/external/authorize", AuthSteps.Identity("s"), Pk(org.PublishableKey)))
            .AssertBody(401, """{"error":"Secret key required"}""");
        (await emu.Consumer.PostJsonAsync("/auth/external/authorize", AuthSteps.Identity("s"), Pk(org.LivePublishableKey)))
            .AssertBody(401, """{"error":"Secret key required"}""");
    }

    [Fact]
    public async Task An_exchange_code_of_organization_A_is_refused_for_organization_B()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var (a, b) = (orgs[0], orgs[1]);
        var code = (await emu.AuthorizeAsync(a.SecretKey, AuthSteps.Identity("cross-org"))).EnsureStatus(200)["exchangeCode"].GetValue<string>();

        (await emu.ExchangeAsync(b.PublishableKey, code)).AssertError(401, "invalid_exchange_code");
        // Refusing it for B did not burn it for A.
        (await emu.ExchangeAsync(a.PublishableKey, code)).EnsureStatus(200);
    }

    [Fact]
    public async Task Live_keys_work_too()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        Assert.StartsWith("pk_live_", org.LivePublishableKey);
        Assert.StartsWith("sk_live_", org.LiveSecretKey);

        var guest = (await emu.PostGuestAsync(org.LivePublishableKey)).EnsureStatus(200);
        Assert.Equal("guest", guest["session"]["type"].GetValue<string>());

        var code = (await emu.AuthorizeAsync(org.LiveSecretKey, AuthSteps.Identity("live-sub"))).EnsureStatus(200)["exchangeCode"].GetValue<string>();
        var session = (await emu.ExchangeAsync(org.LivePublishableKey, code)).EnsureStatus(200);
        Assert.Equal("authenticated", session["session"]["type"].GetValue<string>());
    }

    [Fact]
    public async Task Query_api_key_is_accepted()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.Consumer.PostJsonAsync($"/auth/guest?api_key={org.PublishableKey}")).EnsureStatus(200);
    }
}
