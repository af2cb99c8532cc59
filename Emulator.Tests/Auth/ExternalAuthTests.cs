using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Auth.AuthSteps;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>
/// consumer-part1.md <c>POST /auth/external/authorize</c> and <c>/auth/external/exchange</c>; behavior.md §2.3 (resolution,
/// canonicalSubject, claims as hints, 60-second single-use codes, consumer_conflict).
/// </summary>
public sealed class ExternalAuthTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Authorize_returns_an_exchange_code_valid_sixty_seconds_and_resolves_created_then_existing_then_linked()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var now = await emu.FreezeClockAsync(new DateTimeOffset(2030, 5, 1, 8, 0, 0, TimeSpan.Zero));

        var first = (await emu.AuthorizeAsync(org.SecretKey, Identity("user-1", canonical: "person-1"))).EnsureStatus(200);
        Assert.StartsWith("exc_", first["exchangeCode"].GetValue<string>());
        Assert.Equal(now.AddSeconds(60), DateTimeOffset.Parse(first["expiresAt"].GetValue<string>()));
        Assert.Equal("created", first["resolution"].GetValue<string>());
        Assert.Equal(3, first.Json!.AsObject().Count);

        var again = (await emu.AuthorizeAsync(org.SecretKey, Identity("user-1", canonical: "person-1"))).EnsureStatus(200);
        Assert.Equal("existing", again["resolution"].GetValue<string>());
        Assert.NotEqual(first["exchangeCode"].GetValue<string>(), again["exchangeCode"].GetValue<string>());

        var linked = (await emu.AuthorizeAsync(org.SecretKey, Identity("shop-77", canonical: "person-1", provider: "shopify", issuer: "shop.example"))).EnsureStatus(200);
        Assert.Equal("linked", linked["resolution"].GetValue<string>());

        // Same subject under another issuer is another identity (no canonicalSubject: a new consumer).
        var otherIssuer = (await emu.AuthorizeAsync(org.SecretKey, Identity("user-1", issuer: "https://other.example/"))).EnsureStatus(200);
        Assert.Equal("created", otherIssuer["resolution"].GetValue<string>());

        var ids = new List<string>();
        foreach (var r in new[] { first, again, linked, otherIssuer })
            ids.Add((await emu.ExchangeAsync(org.PublishableKey, r["exchangeCode"].GetValue<string>())).EnsureStatus(200)["session"]["consumerId"].GetValue<string>());
        Assert.Equal(ids[0], ids[1]);
        Assert.Equal(ids[0], ids[2]);
        Assert.NotEqual(ids[0], ids[3]);
    }

    [Fact]
    public async Task Exchange_returns_an_authenticated_session_carrying_the_claimed_email()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var r = await emu.ExternalSignInAsync(org, Identity("mail-1", claims: new JsonObject { ["email"] = "Ext@Example.com", ["fullName"] = "Ext User" }));
        var session = r["session"]!;
        Assert.Equal("authenticated", session["type"]!.GetValue<string>());
        Assert.Equal("ext@example.com", session["email"]!.GetValue<string>());
        Assert.Equal(2592000, r["refreshTokenTtlSeconds"]!.GetValue<int>());
        foreach (var key in new[] { "accessToken", "refreshToken", "beaconToken" }) Assert.False(string.IsNullOrEmpty(r[key]!.GetValue<string>()));
        Assert.Equal("ext@example.com", Jwt.Payload(r["accessToken"]!.GetValue<string>())["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task Claims_only_fill_empty_consumer_fields()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();

        // No email at first: the session has none.
        var bare = await emu.ExternalSignInAsync(org, Identity("hint-1"));
        Assert.Null(bare["session"]!["email"]);
        // A later authorize with an email fills the empty field.
        var filled = await emu.ExternalSignInAsync(org, Identity("hint-1", claims: new JsonObject { ["email"] = "first@example.com" }));
        Assert.Equal("first@example.com", filled["session"]!["email"]!.GetValue<string>());
        // Another email never overwrites it.
        var kept = await emu.ExternalSignInAsync(org, Identity("hint-1", claims: new JsonObject { ["email"] = "second@example.com" }));
        Assert.Equal("first@example.com", kept["session"]!["email"]!.GetValue<string>());
        // Nor does a linked identity's email.
        await emu.ExternalSignInAsync(org, Identity("hint-1b", canonical: "hint-person"));
        var linkedCanon = await emu.ExternalSignInAsync(org, Identity("hint-1c", canonical: "hint-person", claims: new JsonObject { ["email"] = "linked@example.com" }));
        Assert.Equal("linked@example.com", linkedCanon["session"]!["email"]!.GetValue<string>());
        var linkedAgain = await emu.ExternalSignInAsync(org, Identity("hint-1d", canonical: "hint-person", claims: new JsonObject { ["email"] = "third@example.com" }));
        Assert.Equal("linked@example.com", linkedAgain["session"]!["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task Claims_never_take_an_email_that_belongs_to_another_consumer()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var r = await emu.ExternalSignInAsync(org, Identity("squatter", claims: new JsonObject { ["email"] = "demo@fanfare.test" }));
        Assert.Null(r["session"]!["email"]); // no auto-linking by email, and no second consumer with the seeded email

        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "demo@fanfare.test" })).EnsureStatus(200);
        var demo = (await emu.VerifyOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "demo@fanfare.test", ["code"] = "123456" })).EnsureStatus(200);
        Assert.NotEqual(r["session"]!["consumerId"]!.GetValue<string>(), demo["session"]["consumerId"].GetValue<string>());
    }

    [Fact]
    public async Task Claims_longer_than_ten_thousand_json_characters_are_a_validation_error()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        // {"name":"…"} is 11 characters plus the value.
        (await emu.AuthorizeAsync(org.SecretKey, Identity("big", claims: new JsonObject { ["name"] = new string('a', 9989) }))).EnsureStatus(200);
        var tooBig = await emu.AuthorizeAsync(org.SecretKey, Identity("bigger", claims: new JsonObject { ["name"] = new string('a', 9990) }));
        tooBig.AssertValidationError().IssueAt("claims");
    }

    [Fact]
    public async Task Exchange_code_is_single_use()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var code = (await emu.AuthorizeAsync(org.SecretKey, Identity("once"))).EnsureStatus(200)["exchangeCode"].GetValue<string>();
        (await emu.ExchangeAsync(org.PublishableKey, code)).EnsureStatus(200);
        (await emu.ExchangeAsync(org.PublishableKey, code)).AssertError(401, "invalid_exchange_code");
        (await emu.ExchangeAsync(org.PublishableKey, "exc_doesnotexist")).AssertError(401, "invalid_exchange_code");
    }

    [Fact]
    public async Task Exchange_code_expires_after_sixty_seconds()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        var late = (await emu.AuthorizeAsync(org.SecretKey, Identity("slow"))).EnsureStatus(200)["exchangeCode"].GetValue<string>();
        var onTime = (await emu.AuthorizeAsync(org.SecretKey, Identity("slow"))).EnsureStatus(200)["exchangeCode"].GetValue<string>();
        await emu.AdvanceClockAsync(59);
        (await emu.ExchangeAsync(org.PublishableKey, onTime)).EnsureStatus(200);
        await emu.AdvanceClockAsync(2);
        (await emu.ExchangeAsync(org.PublishableKey, late)).AssertError(401, "exchange_code_expired");
    }

    [Fact]
    public async Task Exchanging_while_signed_in_as_another_consumer_is_409_consumer_conflict()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var signedIn = await emu.EmailSignInAsync(org.PublishableKey, "someone@example.com");
        var access = signedIn["accessToken"]!.GetValue<string>();

        var code = (await emu.AuthorizeAsync(org.SecretKey, Identity("someone-else"))).EnsureStatus(200)["exchangeCode"].GetValue<string>();
        (await emu.ExchangeAsync(org.PublishableKey, code, access)).AssertError(409, "consumer_conflict");

        // A guest session is no conflict, and the refused code was not consumed.
        var (_, guestAccess, _) = await emu.GuestAsync(org.PublishableKey);
        (await emu.ExchangeAsync(org.PublishableKey, code, guestAccess)).EnsureStatus(200);
    }

    [Fact]
    public async Task Exchanging_while_signed_in_as_the_same_consumer_is_fine()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var first = await emu.ExternalSignInAsync(org, Identity("same"));
        var code = (await emu.AuthorizeAsync(org.SecretKey, Identity("same"))).EnsureStatus(200)["exchangeCode"].GetValue<string>();
        var r = (await emu.ExchangeAsync(org.PublishableKey, code, first["accessToken"]!.GetValue<string>())).EnsureStatus(200);
        Assert.Equal(first["session"]!["consumerId"]!.GetValue<string>(), r["session"]["consumerId"].GetValue<string>());
    }
}
