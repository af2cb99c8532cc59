using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Distributions.TimedReleases;

/// <summary>
/// Timed releases over HTTP (thin layer over <see cref="TimedReleaseEngine"/>).
/// <para>Admin port, secret key (admin-part4.md): <c>GET /timed-releases</c> (cursor pagination, optional
/// <c>?sequenceId=</c>), <c>POST /timed-releases</c>, <c>GET|PUT|DELETE /timed-releases/{id}</c> → <c>TimedRelease</c>;
/// 404 <c>Timed release not found</c>, 404 <c>Sequence not found</c>, 409 <c>Cannot update closed distribution</c>.</para>
/// <para>Consumer port (consumer-part2.md): <c>GET /timed-releases/{timedReleaseId}</c> (any key or consumer token);
/// with a consumer access token: <c>POST …/enter</c> <c>{variantId?}</c> (reads <c>X-Fingerprint</c>) and
/// <c>GET …/status</c> → <c>{status, admissionGrant?, completedAt?, enteredAt?, expiresAt?, leftAt?, selectedVariantId?}</c>
/// (status <c>NOT_ENTERED|ENTERED|COMPLETED|LEFT|DENIED</c>), <c>POST …/leave</c> → <c>{success}</c>. Errors: 401
/// <c>Authentication required</c>, 403 <c>Guest access not allowed</c>, 423 <c>Timed release is not open yet</c> +
/// ISO <c>Retry-After</c>, 400 <c>Timed release is closed</c>, 404 <c>Timed release not found</c>.</para>
/// </summary>
public sealed class TimedReleasesApi : IFeatureModule
{
    public int Order => 30;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<TimedReleaseEngine>();
        services.AddSingleton<IDistributionEngine>(sp => sp.GetRequiredService<TimedReleaseEngine>());
        services.AddSingleton<IGrantListener, TimedReleaseGrantListener>();
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        routes.Admin.MapGroup("/timed-releases").WithTags("Distributions").MapDistributionAdmin<TimedReleaseEngine, TimedReleaseDistribution>(
            new("TimedReleases", "List timed releases", "Create a timed release", "Get a timed release", "Update a timed release", "Delete a timed release"));

        var consumer = routes.Consumer.MapGroup("/timed-releases/{timedReleaseId}").WithTags("Timed releases");
        consumer.MapGet("", (string timedReleaseId, Caller caller, TimedReleaseEngine engine) =>
            Results.Json(engine.Require(caller.RequireOrganization().Id, timedReleaseId).ToDetailsJson())).WithSummary("Get timed release details");

        consumer.MapPost("/enter", async (string timedReleaseId, HttpRequest req, Caller caller, TimedReleaseEngine engine, ConsumerDirectory consumers) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.Organization!;
            var t = engine.Require(org.Id, timedReleaseId);
            var body = await BodyReader.ReadAsync(req);
            var variantId = body.String("variantId", nullable: true);
            body.ThrowIfInvalid();
            var isGuest = consumers.Get(org.Id, who.ConsumerId)?.IsGuest ?? who.IsGuest;
            return Results.Json(engine.Enter(org, t, who.ConsumerId, isGuest, variantId, req.Headers["X-Fingerprint"].ToString()));
        }).WithSummary("Enter a timed release");

        consumer.MapPost("/leave", (string timedReleaseId, Caller caller, TimedReleaseEngine engine) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.Organization!;
            return Results.Json(engine.Leave(org, engine.Require(org.Id, timedReleaseId), who.ConsumerId));
        }).WithSummary("Leave a timed release");

        consumer.MapGet("/status", (string timedReleaseId, Caller caller, TimedReleaseEngine engine) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.Organization!;
            return Results.Json(engine.Status(org, engine.Require(org.Id, timedReleaseId), who.ConsumerId));
        }).WithSummary("Get consumer status for a timed release");
    }
}

/// <summary>Hears completed and lapsed timed release grants.</summary>
public sealed class TimedReleaseGrantListener(IServiceProvider services) : IGrantListener
{
    public string DistributionType => DistributionTypes.TimedRelease;
    public void OnCompleted(AdmissionGrant grant) => services.GetRequiredService<TimedReleaseEngine>().OnGrantCompleted(grant);
    public void OnExpired(AdmissionGrant grant) => services.GetRequiredService<TimedReleaseEngine>().OnGrantExpired(grant);
}
