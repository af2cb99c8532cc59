using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Fanfare.Emulator.Infrastructure;

/// <summary>The one set of JSON options used for HTTP bodies and for documents in the store.</summary>
public static class Json
{
    /// <summary>camelCase, nulls omitted (optional fields are absent, not null; fields the contract marks
    /// <c>T | null</c> opt back in with <c>[JsonIgnore(Condition = JsonIgnoreCondition.Never)]</c>).</summary>
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Store serialization: like <see cref="Options"/> but keeps nulls so round trips are exact. Metadata of the
    /// document types comes from <see cref="StoreJsonContext"/> (generated at compile time: no reflection at start-up),
    /// reflection for any other type.</summary>
    public static readonly JsonSerializerOptions StoreOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        TypeInfoResolver = JsonTypeInfoResolver.Combine(StoreJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        o.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        o.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        return o;
    }

    /// <summary>The HTTP bodies' options (<see cref="Configure"/>). In a build without dynamic code (NativeAOT, what the
    /// image ships) the emulator's source-generated contexts come first in the resolver chain: the reflection resolver
    /// there cannot build the converters of records whose constructors take value types (a response written with
    /// <c>Results.Json</c>, an OpenAPI schema); a JIT-compiled emulator is left as it is.</summary>
    public static JsonSerializerOptions ConfigureHttp(JsonSerializerOptions o)
    {
        Configure(o);
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
            foreach (var context in GeneratedContexts()) o.TypeInfoResolverChain.Insert(0, context);
        return o;
    }

    /// <summary>Every source-generated context of the emulator, listed rather than found by reflection (that would load
    /// all ≈ 2,100 types of the assembly at start-up); <c>JsonContextsTests</c> fails when one is missing.</summary>
    internal static IJsonTypeInfoResolver[] GeneratedContexts() =>
    [
        StoreJsonContext.Default, Auth.AuthJson.Default, Clock.ClockJson.Default, Commerce.Checkout.CheckoutJson.Default,
        Commerce.Catalogue.CommerceJson.Default, Audiences.AudiencesJson.Default, Consumers.ConsumersJson.Default,
        Loyalty.LoyaltyJson.Default, Control.Journal.JournalJson.Default, Control.Snapshots.SnapshotJson.Default,
        Control.Faults.FaultsJson.Default, Control.Dashboard.DashboardJson.Default,
    ];

    /// <summary>UTC ISO 8601 with milliseconds and a <c>Z</c> suffix, e.g. <c>2026-11-21T09:00:00.000Z</c>.</summary>
    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
    public static string? Iso(DateTimeOffset? t) => t is null ? null : Iso(t.Value);
}
