using System.Text.Json.Nodes;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions;

/// <summary>
/// A consumer's place in one distribution as the journey model shows it (consumer-part1.md <c>GET /consumers/me</c>,
/// <c>Sequence</c> variants): <see cref="Phase"/> ∈ <c>scheduled | enterable | participating | settling | granted | ended</c>;
/// <see cref="Consumer"/> is the mechanism's consumer object (lowercase statuses, e.g. QueueConsumer); <see cref="Grant"/>
/// is the <c>Grant</c> object in phase <c>granted</c>; <see cref="Outcome"/> the <c>Outcome</c> in phase <c>ended</c>.
/// </summary>
public sealed record Participation(string Phase, JsonObject? Consumer, JsonObject? Grant = null, JsonObject? Outcome = null);

/// <summary>
/// One distribution type's engine, as the shared parts (experiences, sequences, routing, <c>/consumers/me</c>, admission
/// grants, QA helpers) see it. Implementations register as singletons of this interface. Engines know nothing of HTTP.
/// </summary>
public interface IDistributionEngine
{
    /// <summary><see cref="DistributionTypes"/> value, e.g. <c>queue</c>.</summary>
    string Type { get; }
    /// <summary>Key of the nested array in <c>POST /experiences</c> <c>sequence</c> and in consumer experience sequences:
    /// <c>queues</c>, <c>draws</c>, <c>auctions</c>, <c>appointments</c>, <c>timedReleases</c>.</summary>
    string NestedKey { get; }
    /// <summary>404 error string, e.g. <c>Queue not found</c>.</summary>
    string NotFoundError { get; }

    DistributionBase? Find(string organizationId, string id);
    IEnumerable<DistributionBase> ForSequence(string organizationId, string sequenceId);

    /// <summary>Creates from an admin create body (top-level or nested in an experience's sequence; a nested body has no
    /// <c>sequenceId</c>). Reads fields from <paramref name="body"/>, which collects validation issues (the caller throws).</summary>
    DistributionBase Create(Organization org, Sequence sequence, BodyReader body, string actor);

    /// <summary>The admin/public JSON shape (e.g. admin-part4.md <c>Queue</c>).</summary>
    JsonObject ToJson(DistributionBase distribution);

    /// <summary>Admin audit fields a consumer never sees.</summary>
    static readonly string[] AdminOnlyFields = ["organizationId", "createdAt", "createdBy", "archived", "updatedAt", "updatedBy"];

    /// <summary>The shape nested in the consumer <c>Experience</c> (consumer-part2.md <c>GET /experiences/{id}</c>
    /// <c>sequences[].queues[]</c> …): by default <see cref="ToJson"/> minus the admin audit fields; a type whose consumer
    /// shape has more (an auction's <c>currencyCode</c>) overrides it.</summary>
    JsonObject NestedConsumerJson(Organization org, DistributionBase distribution) => WithoutAdminFields(ToJson(distribution));

    /// <summary><paramref name="j"/> without <see cref="AdminOnlyFields"/>.</summary>
    static JsonObject WithoutAdminFields(JsonObject j)
    {
        foreach (var k in AdminOnlyFields) j.Remove(k);
        return j;
    }

    /// <summary>The consumer's participation for journeys, <c>/consumers/me</c> and routing.</summary>
    Participation View(DistributionBase distribution, string consumerId);

    /// <summary>Participants for <c>GET /_emulator/distributions/{id}/participants</c>.</summary>
    IReadOnlyList<JsonObject> Participants(DistributionBase distribution) => [];

    /// <summary><c>POST /_emulator/distributions/{id}/simulate</c>: N synthetic guests enter. Returns their consumer ids.</summary>
    IReadOnlyList<string> Simulate(Organization org, DistributionBase distribution, int consumers) =>
        throw ApiErrors.BadRequest("simulate_not_supported", $"Simulating participants is not supported for {Type} distributions.");
}

/// <summary>All engines, by type; finds a distribution by id across types.</summary>
public sealed class DistributionRegistry(IEnumerable<IDistributionEngine> engines)
{
    public IReadOnlyList<IDistributionEngine> Engines { get; } = engines.ToList();

    public IDistributionEngine? ForType(string type) => Engines.FirstOrDefault(e => e.Type == type);

    public (IDistributionEngine Engine, DistributionBase Distribution)? Find(string organizationId, string id)
    {
        foreach (var e in Engines)
            if (e.Find(organizationId, id) is { } d) return (e, d);
        return null;
    }

    /// <summary>Every distribution of a sequence, all types, creation order within each type.</summary>
    public IEnumerable<(IDistributionEngine Engine, DistributionBase Distribution)> ForSequence(string organizationId, string sequenceId) =>
        Engines.SelectMany(e => e.ForSequence(organizationId, sequenceId).Select(d => (e, d)));
}
