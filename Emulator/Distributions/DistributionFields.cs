using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions;

/// <summary>
/// Reads the fields every admin distribution body shares (<c>name</c>, <c>timeZone</c>, <c>openAt</c>, <c>closeAt</c>;
/// admin-part4.md <c>POST/PUT /queues</c>, <c>/timed-releases</c>) and fills the common document fields. Timestamps are
/// ISO 8601, stored UTC. <c>closeAt</c> must be after <c>openAt</c>.
/// <para>Draws, auctions and appointments read the same fields in their own contract order, interleaved with theirs (the
/// order of a 400's issues follows the reads), so they use the parts: <see cref="DefaultTimeZone"/>,
/// <see cref="CheckWindow"/> (draws) and <see cref="FieldChanges"/>.</para>
/// </summary>
internal static class DistributionFields
{
    /// <summary>The actor recorded in <c>createdBy</c>/<c>updatedBy</c> for calls made with a secret key.</summary>
    public const string ApiActor = "api";

    /// <summary>Create: reads <c>name</c> (required), <c>timeZone</c>, <c>openAt</c>, <c>closeAt</c> into <paramref name="d"/>.</summary>
    public static void ReadCreate(BodyReader body, DistributionBase d, Organization org, Sequence sequence, DocumentStore store,
        string actor, DateTimeOffset now)
    {
        d.OrganizationId = org.Id;
        d.SequenceId = sequence.Id;
        d.ExperienceId = sequence.ExperienceId;
        d.Name = body.String("name", required: true, minLength: 1) ?? "";
        var tz = body.String("timeZone", nullable: true, minLength: 1);
        d.TimeZone = tz ?? DefaultTimeZone(store, sequence, org) ?? "UTC";
        d.OpenAt = body.DateTime("openAt");
        d.CloseAt = body.DateTime("closeAt");
        CheckWindow(body, d.OpenAt, d.CloseAt);
        d.CreatedAt = now;
        d.CreatedBy = actor;
    }

    /// <summary>Update: only the fields present change; <c>openAt</c>/<c>closeAt</c> may be set to null. Records the
    /// changed contract field names in <paramref name="changes"/>.</summary>
    public static void ReadUpdate(BodyReader body, DistributionBase d, FieldChanges changes)
    {
        if (body.Root.ContainsKey("name") && body.String("name", required: true, minLength: 1) is { } name)
            changes.Set("name", d.Name, name, v => d.Name = v);
        if (body.Root.ContainsKey("timeZone") && body.String("timeZone", required: true, minLength: 1) is { } tz)
            changes.Set("timeZone", d.TimeZone, tz, v => d.TimeZone = v);
        changes.Set("openAt", d.OpenAt, body.DateTime("openAt"), v => d.OpenAt = v);
        changes.Set("closeAt", d.CloseAt, body.DateTime("closeAt"), v => d.CloseAt = v);
        CheckWindow(body, d.OpenAt, d.CloseAt);
    }

    /// <summary>400 issue on <c>closeAt</c> unless it is after <c>openAt</c> (when both are set).</summary>
    public static void CheckWindow(BodyReader body, DateTimeOffset? openAt, DateTimeOffset? closeAt)
    {
        if (openAt is { } o && closeAt is { } c && c <= o)
            body.AddIssue("closeAt", "check", "closeAt after openAt", body.Root["closeAt"], "Invalid value: closeAt must be after openAt");
    }

    /// <summary>The time zone of a distribution created without one: its experience's, else the organization's.</summary>
    public static string DefaultTimeZone(DocumentStore store, Sequence sequence, Organization org) =>
        store.Get<Experience>(sequence.ExperienceId)?.TimeZone ?? org.TimeZone;

    /// <summary>The <c>Retry-After</c> value of a 423: the ISO instant it opens, e.g. <c>2024-12-01T09:00:00Z</c>.</summary>
    public static string RetryAfter(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// The changes of an admin update: <see cref="Set{T}"/> applies a field the body carries when its value differs from the
/// current one and records the contract name (<see cref="Names"/>: the <c>changedFields</c> of <c>distribution.updated</c>).
/// </summary>
internal sealed class FieldChanges(BodyReader body)
{
    public List<string> Names { get; } = [];

    public void Set<T>(string key, T current, T next, Action<T> apply)
    {
        if (!body.Root.ContainsKey(key) || EqualityComparer<T>.Default.Equals(current, next)) return;
        apply(next);
        Names.Add(key);
    }
}
