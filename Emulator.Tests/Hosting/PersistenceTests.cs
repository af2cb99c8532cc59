using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Hosting;

/// <summary>With a data directory (not in memory) the store survives a restart of the emulator.</summary>
public sealed class PersistenceTests
{
    [Fact]
    public async Task State_survives_a_restart_on_the_same_data_directory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fanfare-emulator-test-" + Path.GetRandomFileName());
        void OnDisk(Fanfare.Emulator.Hosting.EmulatorOptions o) { o.InMemory = false; o.DataDirectory = dir; }
        try
        {
            string consumerId, refreshToken, orgId, pk, identityConsumer;
            await using (var first = await EmulatorServer.StartAsync(OnDisk))
            {
                var org = await first.DemoOrgAsync();
                (orgId, pk) = (org.Id, org.PublishableKey);
                var signedIn = await first.EmailSignInAsync(pk, "durable@example.com");
                consumerId = signedIn["session"]!["consumerId"]!.GetValue<string>();
                refreshToken = signedIn["refreshToken"]!.GetValue<string>();
                identityConsumer = (await first.ExternalSignInAsync(org, AuthSteps.Identity("durable-sub")))["session"]!["consumerId"]!.GetValue<string>();
            }
            Assert.True(File.Exists(Path.Combine(dir, "emulator.db")));

            await using (var second = await EmulatorServer.StartAsync(OnDisk))
            {
                var org = await second.DemoOrgAsync();
                Assert.Equal(orgId, org.Id);
                Assert.Equal(pk, org.PublishableKey);

                var again = await second.EmailSignInAsync(pk, "durable@example.com");
                Assert.Equal(consumerId, again["session"]!["consumerId"]!.GetValue<string>());
                (await second.RefreshAsync(pk, refreshToken)).EnsureStatus(200);

                var existing = (await second.AuthorizeAsync(org.SecretKey, AuthSteps.Identity("durable-sub"))).EnsureStatus(200);
                Assert.Equal("existing", existing["resolution"].GetValue<string>());
                var session = (await second.ExchangeAsync(pk, existing["exchangeCode"].GetValue<string>())).EnsureStatus(200);
                Assert.Equal(identityConsumer, session["session"]["consumerId"].GetValue<string>());

                // The seed's fixed codes still apply after a restart (the seed is not re-applied to a non-empty store).
                (await second.RequestOtpAsync(pk, new JsonObject { ["email"] = "demo@fanfare.test" })).EnsureStatus(200);
                (await second.VerifyOtpAsync(pk, new JsonObject { ["email"] = "demo@fanfare.test", ["code"] = "123456" })).EnsureStatus(200);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
