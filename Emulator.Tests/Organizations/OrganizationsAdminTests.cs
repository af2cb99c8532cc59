using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Organizations;

/// <summary>
/// The five organization operations of the admin API (admin-part3.md; behavior.md §1.2, §10.4): current, update with
/// the slug rules, slug availability with suggestions, sdk-config, and secret-key rotation for test and live keys.
/// </summary>
public sealed class OrganizationsAdminTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly string[] Required =
        ["state", "publishableKey", "languageCode", "countryCode", "timeZone", "currencyCode", "companyName", "slug", "defaultMessagingChannel"];

    [Fact]
    public async Task Current_organization_has_the_contract_shape()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var r = (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200);
        foreach (var f in Required) Assert.True(r.Json![f] is JsonValue, $"{f} missing: {r.Text}");
        Assert.Equal("Fanfare Demo", r["companyName"].GetValue<string>());
        Assert.Equal("fanfare-demo", r["slug"].GetValue<string>());
        Assert.Equal("ACTIVE", r["state"].GetValue<string>());
        Assert.Equal(org.PublishableKey, r["publishableKey"].GetValue<string>());
        Assert.Matches("^[A-Z]{3}$", r["currencyCode"].GetValue<string>());

        (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Pk(org.PublishableKey))).AssertError(401, "Secret key required");
        (await emu.Admin.GetAsync("/organizations/current", null)).AssertError(401, "Authentication required");
        // Under the production prefixes as well.
        (await emu.Admin.GetAsync("/api/v1/organizations/current", HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200);
    }

    [Fact]
    public async Task Put_updates_fields_and_enforces_the_slug_rules()
    {
        await emu.ResetAsync();
        var orgs = await emu.OrganizationsAsync();
        var sk = HttpClientExtensions.Sk(orgs[0].SecretKey);

        var ok = (await emu.Admin.SendJsonAsync(HttpMethod.Put, "/organizations", new JsonObject
        {
            ["companyName"] = "Demo Renamed", ["slug"] = "demo-renamed", ["currencyCode"] = "EUR", ["defaultMessagingChannel"] = "SMS",
            ["companyUrl"] = "https://demo.example", ["embeddingAllowedHosts"] = new JsonArray("shop.example"), ["timeZone"] = "Europe/Paris",
        }, sk)).EnsureStatus(200);
        Assert.Equal("Demo Renamed", ok["companyName"].GetValue<string>());
        Assert.Equal("demo-renamed", ok["slug"].GetValue<string>());
        Assert.Equal("EUR", ok["currencyCode"].GetValue<string>());
        Assert.Equal("SMS", ok["defaultMessagingChannel"].GetValue<string>());
        Assert.Equal("https://demo.example", ok["companyUrl"].GetValue<string>());
        Assert.Equal("Europe/Paris", ok["timeZone"].GetValue<string>());
        var settings = await emu.Consumer.GetJsonAsync($"/organizations/{orgs[0].Id}/settings", HttpClientExtensions.Pk(orgs[0].PublishableKey));
        Assert.Contains("shop.example", settings["frameAncestors"]!.AsArray().Select(h => h!.GetValue<string>()));
        var again = (await emu.Admin.GetAsync("/organizations/current", sk)).EnsureStatus(200);
        Assert.Equal("demo-renamed", again["slug"].GetValue<string>());

        foreach (var bad in new[] { "ab", "Upper", "-lead", "trail-", "dou--ble", "sp ace", new string('a', 51) })
            (await emu.Admin.SendJsonAsync(HttpMethod.Put, "/organizations", new JsonObject { ["slug"] = bad }, sk)).AssertError(400, "Invalid slug format");
        foreach (var reserved in new[] { "admin", "api", "www", "fanfare" })
            (await emu.Admin.SendJsonAsync(HttpMethod.Put, "/organizations", new JsonObject { ["slug"] = reserved }, sk)).AssertError(400, "Invalid slug format");
        // The other organization's slug is taken; nothing changed.
        var taken = await emu.Admin.SendJsonAsync(HttpMethod.Put, "/organizations", new JsonObject { ["slug"] = "acme-sneakers", ["companyName"] = "Nope" }, sk);
        taken.AssertError(400, "Slug already taken");
        Assert.Equal("Demo Renamed", (await emu.Admin.GetAsync("/organizations/current", sk))["companyName"].GetValue<string>());

        var issues = (await emu.Admin.SendJsonAsync(HttpMethod.Put, "/organizations", new JsonObject { ["currencyCode"] = "eur", ["defaultMessagingChannel"] = "PIGEON" }, sk)).AssertValidationError();
        issues.IssueAt("currencyCode");
        issues.IssueAt("defaultMessagingChannel");
    }

    [Fact]
    public async Task Slug_availability_answers_with_real_suggestions()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);

        var free = (await emu.Admin.GetAsync("/organizations/slug/availability?slug=brand-new", sk)).EnsureStatus(200);
        Assert.True(free["available"].GetValue<bool>());
        Assert.Empty(free["suggestions"].AsArray());

        var taken = (await emu.Admin.GetAsync("/organizations/slug/availability?slug=acme-sneakers", sk)).EnsureStatus(200);
        Assert.False(taken["available"].GetValue<bool>());
        Assert.Equal("TAKEN", taken["reason"].GetValue<string>());
        var suggestions = taken["suggestions"].AsArray().Select(s => s!.GetValue<string>()).ToList();
        Assert.NotEmpty(suggestions);
        foreach (var s in suggestions)
        {
            Assert.StartsWith("acme-sneakers", s);
            var check = (await emu.Admin.GetAsync("/organizations/slug/availability?slug=" + s, sk)).EnsureStatus(200);
            Assert.True(check["available"].GetValue<bool>(), $"suggested {s} is not available");
        }
        // A suggestion can be taken with PUT.
        (await emu.Admin.SendJsonAsync(HttpMethod.Put, "/organizations", new JsonObject { ["slug"] = suggestions[0] }, sk)).EnsureStatus(200);

        var reserved = (await emu.Admin.GetAsync("/organizations/slug/availability?slug=admin", sk)).EnsureStatus(200);
        Assert.False(reserved["available"].GetValue<bool>());
        Assert.Equal("RESERVED", reserved["reason"].GetValue<string>());
        Assert.NotEmpty(reserved["suggestions"].AsArray());
        var invalid = (await emu.Admin.GetAsync("/organizations/slug/availability?slug=Bad--Slug", sk)).EnsureStatus(200);
        Assert.Equal("INVALID_FORMAT", invalid["reason"].GetValue<string>());
        Assert.Contains("bad-slug", invalid["suggestions"].AsArray().Select(s => s!.GetValue<string>()));

        (await emu.Admin.GetAsync("/organizations/slug/availability", sk)).AssertValidationError().IssueAt("slug");
    }

    [Fact]
    public async Task Sdk_config_returns_the_client_safe_pair()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.Admin.GetAsync("/organizations/current/sdk-config", HttpClientExtensions.Sk(org.SecretKey)))
            .AssertBody(200, new JsonObject { ["organizationId"] = org.Id, ["publishableKey"] = org.PublishableKey }.ToJsonString());
        (await emu.Admin.GetAsync("/organizations/current/sdk-config", HttpClientExtensions.Sk(org.LiveSecretKey)))
            .AssertBody(200, new JsonObject { ["organizationId"] = org.Id, ["publishableKey"] = org.LivePublishableKey }.ToJsonString());
    }

    [Fact]
    public async Task Rotating_the_secret_key_refuses_the_old_one_at_once_everywhere_and_reset_restores_it()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var old = org.SecretKey;

        var rotated = (await emu.Admin.PostJsonAsync("/organizations/secret-key/rotate", null, HttpClientExtensions.Sk(old))).EnsureStatus(200);
        Assert.Single(rotated.Json!.AsObject());
        var fresh = rotated["secretKey"].GetValue<string>();
        Assert.StartsWith("sk_test_", fresh);
        Assert.NotEqual(old, fresh);

        // Old key: refused at once on the admin port and on the consumer port (server-side calls).
        (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Sk(old))).AssertError(401, "Authentication required");
        (await emu.AuthorizeAsync(old, AuthSteps.Identity("rotated"))).AssertError(401, "Authentication required");
        (await emu.Consumer.GetAsync("/consumers/whatever", new Dictionary<string, string> { ["X-Organization-Id"] = org.Id, ["X-Secret-Key"] = old }))
            .AssertError(401, "Authentication required");
        // New key works on both.
        (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Sk(fresh))).EnsureStatus(200);
        (await emu.AuthorizeAsync(fresh, AuthSteps.Identity("rotated"))).EnsureStatus(200);
        // The publishable and live keys are untouched.
        (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Sk(org.LiveSecretKey))).EnsureStatus(200);

        // The control plane shows the new key; reset brings back the well-known one.
        Assert.Equal(fresh, (await emu.DemoOrgAsync()).SecretKey);
        await emu.ResetAsync();
        Assert.Equal(old, (await emu.DemoOrgAsync()).SecretKey);
        (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Sk(old))).EnsureStatus(200);
        (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Sk(fresh))).AssertError(401, "Authentication required");

        (await emu.Admin.PostJsonAsync("/organizations/secret-key/rotate", null, HttpClientExtensions.Pk(org.PublishableKey))).AssertError(401, "Secret key required");
    }

    [Fact]
    public async Task Rotating_with_a_live_key_rotates_the_live_key_only()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var fresh = (await emu.Admin.PostJsonAsync("/organizations/secret-key/rotate", null, HttpClientExtensions.Sk(org.LiveSecretKey)))
            .EnsureStatus(200)["secretKey"].GetValue<string>();
        Assert.StartsWith("sk_live_", fresh);
        (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Sk(org.LiveSecretKey))).AssertError(401, "Authentication required");
        (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Sk(fresh))).EnsureStatus(200);
        (await emu.Admin.GetAsync("/organizations/current", HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200);
        var listed = await emu.DemoOrgAsync();
        Assert.Equal(fresh, listed.LiveSecretKey);
        Assert.Equal(org.SecretKey, listed.SecretKey);
        await emu.ResetAsync();
        Assert.Equal(org.LiveSecretKey, (await emu.DemoOrgAsync()).LiveSecretKey);
    }
}
