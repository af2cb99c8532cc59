using System.Text.Json;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions;

/// <summary>The organization-scoped lookups every engine makes on its own distribution kind.</summary>
public static class DistributionQueries
{
    /// <summary>The distribution of kind <typeparamref name="T"/> with this id when it belongs to the organization (archived
    /// ones included), else null.</summary>
    public static T? GetOwned<T>(this DocumentStore store, string organizationId, string? id) where T : DistributionBase =>
        store.Get<T>(id) is { } d && d.OrganizationId == organizationId ? d : null;

    /// <summary>The organization's distributions of kind <typeparamref name="T"/> in creation order (archived ones
    /// included), optionally of one sequence.</summary>
    public static List<T> OfOrganization<T>(this DocumentStore store, string organizationId, string? sequenceId = null) where T : DistributionBase =>
        store.Where<T>(d => d.OrganizationId == organizationId && (sequenceId is null || d.SequenceId == sequenceId));

    /// <summary>A detached copy of a stored distribution (the store hands out live objects): an update changes and
    /// validates the copy, then puts it.</summary>
    public static T Detached<T>(T distribution) where T : DistributionBase =>
        JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(distribution, Json.StoreOptions), Json.StoreOptions)!;
}
