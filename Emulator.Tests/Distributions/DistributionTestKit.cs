using System.Text;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Distributions;

/// <summary>Shared fixtures for the queue and timed release tests: a sequence in the store, guests, JWT claims, events.</summary>
public static class DistributionTestKit
{
    /// <summary>An experience and a sequence of <paramref name="org"/> with fixed ids, put into the emulator's state through
    /// the control plane (<see cref="StateKit"/>). Returns the sequence id.</summary>
    public static string CreateSequence(this EmulatorServer emu, OrgKeys org, string name = "General")
    {
        var n = emu.Documents<Sequence>().Count + 1;
        var experienceId = $"00000000-0000-4000-8000-{n:D12}";
        var sequenceId = $"00000000-0000-4000-9000-{n:D12}";
        emu.PutDocuments(
            new Experience { Id = experienceId, OrganizationId = org.Id, Name = "Drop " + n, TimeZone = "UTC" },
            new Sequence { Id = sequenceId, OrganizationId = org.Id, ExperienceId = experienceId, Name = name });
        return sequenceId;
    }

    public static string ExperienceOf(this EmulatorServer emu, string sequenceId) =>
        emu.Documents<Sequence>().Single(s => s.Id == sequenceId).ExperienceId;

    /// <summary>Events of a type recorded in the outbox (read through the control plane's snapshot).</summary>
    public static List<OutboxEvent> Events(this EmulatorServer emu, string type) =>
        emu.Documents<OutboxEvent>().Where(e => e.Type == type).ToList();

    /// <summary>The payload of a JWT, decoded (no signature check).</summary>
    public static JsonObject Claims(string jwt)
    {
        var part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + (4 - part.Length % 4) % 4, '=');
        return JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(part)))!.AsObject();
    }

    /// <summary>A guest with its publishable-key + access-token headers.</summary>
    public static async Task<Guest> GuestOfAsync(this EmulatorServer emu, OrgKeys org)
    {
        var (id, access, _) = await emu.GuestAsync(org.PublishableKey);
        return new Guest(id, Pk(org.PublishableKey, access));
    }

    public static Dictionary<string, string> With(this Dictionary<string, string> headers, string name, string value) =>
        new(headers) { [name] = value };
}

public sealed record Guest(string Id, Dictionary<string, string> Headers);
