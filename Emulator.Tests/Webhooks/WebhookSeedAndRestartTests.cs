using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Webhooks;

/// <summary>Endpoints declared in the seed, and deliveries that survive a restart (outbox, deliveries and jobs are stored).</summary>
public sealed class WebhookSeedAndRestartTests
{
    private static string WriteSeed(string dir, string receiverUrl)
    {
        var seed = new JsonObject
        {
            ["randomSeed"] = "webhook-tests",
            ["organizations"] = new JsonArray(new JsonObject
            {
                ["name"] = "Hook Shop",
                ["webhookSignatureScheme"] = "body-hex",
                ["consumers"] = new JsonArray(new JsonObject { ["email"] = "seeded@hook.test" }),
                ["webhookEndpoints"] = new JsonArray(
                    new JsonObject { ["url"] = receiverUrl, ["events"] = new JsonArray("consumer.created"), ["description"] = "merchant app" },
                    new JsonObject { ["id"] = "whe_seeded", ["url"] = receiverUrl, ["secret"] = "whsec_seeded", ["signatureScheme"] = "v1", ["enabled"] = false },
                    new JsonObject { ["url"] = "not a url" }),
            }),
        };
        var path = Path.Combine(dir, "seed.json");
        File.WriteAllText(path, seed.ToJsonString());
        return path;
    }

    [Fact]
    public async Task Seeded_endpoints_use_the_organization_default_scheme_and_seed_events_are_not_sent()
    {
        var dir = Directory.CreateTempSubdirectory("webhook-seed-").FullName;
        try
        {
            await using var receiver = await WebhookReceiver.StartAsync();
            var seedFile = WriteSeed(dir, receiver.Url);
            await using var emu = await EmulatorServer.StartAsync(o => o.SeedFile = seedFile);
            var org = await emu.DemoOrgAsync();
            await emu.FreezeClockAsync();

            var list = (await emu.Admin.GetJsonAsync("/webhooks", Sk(org.SecretKey)))["data"]!.AsArray();
            Assert.Equal(2, list.Count); // the invalid entry is skipped
            var main = list[0]!;
            Assert.StartsWith("whe_", main["id"].S());
            Assert.Equal("body-hex", main["signatureScheme"].S());
            Assert.Equal(org.WebhookSecret, main["secret"].S());
            Assert.Equal("merchant app", main["description"].S());
            Assert.Equal("whe_seeded", list[1]!["id"].S());
            Assert.Equal("v1", list[1]!["signatureScheme"].S());
            Assert.False(list[1]!["enabled"]!.GetValue<bool>());
            Assert.Equal(["*"], list[1]!["events"]!.AsArray().Select(e => e.S()));

            await emu.RunDueAsync();
            Assert.Empty(receiver.Received); // the seeded consumer's consumer.created is recorded, not delivered

            var (consumerId, _, _) = await emu.GuestAsync(org.PublishableKey);
            await emu.RunDueAsync();
            var r = Assert.Single(receiver.Received);
            Assert.Equal(consumerId, r.Json["data"]!["consumerId"].S());
            Assert.True(DocsSignature.VerifyBodyHex(org.WebhookSecret, r));

            // a new endpoint without a scheme also takes the organization's default
            var created = await emu.CreateEndpointAsync(org.SecretKey, receiver.Url, ["*"]);
            Assert.Equal("body-hex", created["signatureScheme"].S());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task A_pending_retry_survives_a_restart()
    {
        var dir = Directory.CreateTempSubdirectory("webhook-restart-").FullName;
        try
        {
            await using var receiver = await WebhookReceiver.StartAsync();
            receiver.Respond = n => n == 0 ? 500 : 200;
            string deliveryId;
            await using (var first = await EmulatorServer.StartAsync(o => { o.InMemory = false; o.DataDirectory = dir; }))
            {
                var org = await first.DemoOrgAsync();
                await first.FreezeClockAsync();
                var ep = await first.CreateEndpointAsync(org.SecretKey, receiver.Url, ["*"]);
                deliveryId = (await first.SendTestAsync(org.SecretKey, ep["id"].S(), "auction.settled"))["deliveryId"].S();
                await first.RunDueAsync();
                Assert.Single(receiver.Received);
                Assert.Equal("pending", (await first.DeliveryAsync(deliveryId))["status"].S());
            }

            await using var second = await EmulatorServer.StartAsync(o => { o.InMemory = false; o.DataDirectory = dir; });
            await second.FreezeClockAsync();
            Assert.Equal(1, (await second.DeliveryAsync(deliveryId))["attemptCount"]!.GetValue<int>());
            await second.AdvanceClockAsync(120); // the 1-minute retry, scheduled before the restart, falls due
            Assert.Equal(2, receiver.Received.Count);
            Assert.Equal("1", receiver.Received[1].Header("X-Fanfare-Retry-Count"));
            Assert.Equal(receiver.Received[0].Body, receiver.Received[1].Body);
            Assert.Equal("delivered", (await second.DeliveryAsync(deliveryId))["status"].S());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
