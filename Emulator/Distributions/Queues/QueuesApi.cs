using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Queues;

/// <summary>
/// Queues over HTTP (thin layer over <see cref="QueueEngine"/>).
/// <para>Admin port, secret key (admin-part4.md): <c>GET /queues</c> (cursor pagination, optional <c>?sequenceId=</c>),
/// <c>POST /queues</c>, <c>GET|PUT|DELETE /queues/{id}</c> → <c>Queue</c>; 404 <c>Queue not found</c>, 404 <c>Sequence not
/// found</c>, 409 <c>Cannot update closed distribution</c>, 400 <c>validation_error</c>.</para>
/// <para>Consumer port (consumer-part2.md): <c>GET /queues/{queueId}</c> (any key or consumer token) → <c>QueueDetails</c>;
/// <c>POST /queues/{queueId}/enter</c> (reads <c>X-Fingerprint</c>), <c>POST /queues/{queueId}/leave</c>,
/// <c>GET /queues/{queueId}/status</c> (consumer access token; 401 <c>Authentication required</c>) →
/// <c>QueueConsumerStatus</c>; server side with the secret key: <c>POST /queues/{queueId}/admit</c> <c>{consumerId}</c>,
/// <c>POST /queues/{queueId}/deny</c> <c>{consumerId, reason}</c> → <c>QueueConsumerStatus</c>.
/// Errors: 423 <c>Queue is not open yet</c> + <c>Retry-After: &lt;ISO openAt&gt;</c>; 429 <c>Queue is full</c> +
/// <c>Retry-After: 30</c>; 403 <c>Guest access not allowed</c> (<c>supportsGuest: false</c>); 404 <c>Queue not found</c>,
/// <c>Consumer not in queue</c>.</para>
/// <para>Control plane: <c>POST /_emulator/queues/{id}/admit</c> <c>{"count":N}</c> (default 1) admits the next N now.</para>
/// </summary>
public sealed class QueuesApi : IFeatureModule
{
    public int Order => 30;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<QueueEngine>();
        services.AddSingleton<IDistributionEngine>(sp => sp.GetRequiredService<QueueEngine>());
        services.AddSingleton<IDistributionLifecycleListener>(sp => sp.GetRequiredService<QueueEngine>());
        services.AddSingleton<IGrantListener, QueueGrantListener>();
        services.AddSingleton<IJobHandler, QueueAdmissionJob>();
    }

    public void OnReset(IServiceProvider services) => services.GetRequiredService<QueueEngine>().ResetIndex();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        // ------------------------------------------------------------ admin
        routes.Admin.MapGroup("/queues").WithTags("Distributions").MapDistributionAdmin<QueueEngine, QueueDistribution>(
            new("Queues", "List queues", "Create a queue", "Get a queue", "Update a queue", "Delete a queue"));

        // ------------------------------------------------------------ consumer
        var consumer = routes.Consumer.MapGroup("/queues/{queueId}").WithTags("Queues");
        consumer.MapGet("", (string queueId, Caller caller, QueueEngine engine) =>
            Results.Json(engine.Require(caller.RequireOrganization().Id, queueId).ToJson())).WithSummary("Get queue details");

        consumer.MapPost("/enter", (string queueId, HttpRequest req, Caller caller, QueueEngine engine, ConsumerDirectory consumers) =>
        {
            var (org, who) = Participant(caller);
            var q = engine.Require(org.Id, queueId);
            var isGuest = consumers.Get(org.Id, who.ConsumerId)?.IsGuest ?? who.IsGuest;
            return Results.Json(engine.Enter(org, q, who.ConsumerId, isGuest, req.Headers["X-Fingerprint"].ToString()));
        }).WithSummary("Enter a queue");

        consumer.MapPost("/leave", (string queueId, Caller caller, QueueEngine engine) =>
        {
            var (org, who) = Participant(caller);
            return Results.Json(engine.Leave(org, engine.Require(org.Id, queueId), who.ConsumerId));
        }).WithSummary("Leave a queue");

        consumer.MapGet("/status", (string queueId, Caller caller, QueueEngine engine) =>
        {
            var (org, who) = Participant(caller);
            return Results.Json(engine.Status(org, engine.Require(org.Id, queueId), who.ConsumerId));
        }).WithSummary("Get the current consumer's queue status");

        consumer.MapPost("/admit", async (string queueId, HttpRequest req, Caller caller, QueueEngine engine) =>
        {
            var org = caller.RequireSecret();
            var q = engine.Require(org.Id, queueId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var consumerId = body.String("consumerId", required: true, minLength: 1);
            body.ThrowIfInvalid();
            return Results.Json(engine.Admit(org, q, consumerId!));
        }).WithSummary("Admit a consumer to the queue (server side)");

        consumer.MapPost("/deny", async (string queueId, HttpRequest req, Caller caller, QueueEngine engine) =>
        {
            var org = caller.RequireSecret();
            var q = engine.Require(org.Id, queueId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var consumerId = body.String("consumerId", required: true, minLength: 1);
            var reason = body.Enum("reason", QueueEngine.DenyReasons, required: true);
            body.ThrowIfInvalid();
            return Results.Json(engine.Deny(org, q, consumerId!, reason!));
        }).WithSummary("Deny a consumer from the queue (server side)");

        // ------------------------------------------------------------ control plane
        routes.Control.MapPost("/queues/{id}/admit", async (string id, HttpRequest req, QueueEngine engine, OrganizationDirectory orgs) =>
        {
            var body = await BodyReader.ReadAsync(req);
            var count = body.Int("count", min: 1, max: 1_000_000) ?? 1;
            body.ThrowIfInvalid();
            foreach (var org in orgs.All())
                if (engine.Get(org.Id, id) is { } q)
                    return Results.Json(engine.AdmitNext(org, q, count));
            throw ApiErrors.NotFoundError(QueueEngine.NotFound);
        }).WithSummary("Admit the next N waiting consumers now, ignoring the rate (QA helper)");
    }

    private static (Organization Org, ConsumerPrincipal Consumer) Participant(Caller caller)
    {
        var who = caller.RequireConsumer();
        return (caller.Organization!, who);
    }
}

/// <summary>Hears completed and lapsed queue grants (resolves the engine lazily: the grants service depends on listeners).</summary>
public sealed class QueueGrantListener(IServiceProvider services) : IGrantListener
{
    public string DistributionType => DistributionTypes.Queue;
    public void OnCompleted(AdmissionGrant grant) => services.GetRequiredService<QueueEngine>().OnGrantCompleted(grant);
    public void OnExpired(AdmissionGrant grant) => services.GetRequiredService<QueueEngine>().OnGrantExpired(grant);
}

/// <summary>Scheduled job <c>queue.admit</c>: one per queue, admits the batch that fell due. Synchronous: the scheduler
/// runs consecutive due jobs of this kind in one store transaction.</summary>
public sealed class QueueAdmissionJob(IServiceProvider services) : ISyncJobHandler
{
    public string Kind => QueueEngine.AdmitJobKind;
    public void Run(ScheduledJob job) =>
        services.GetRequiredService<QueueEngine>().RunAdmission(job.Payload?["queueId"]?.GetValue<string>() ?? "");

    /// <summary>An admission touches the queue's line and issues grants: both engines' indexes follow the store.</summary>
    public void AfterRollback()
    {
        services.GetRequiredService<QueueEngine>().ResetIndex();
        services.GetRequiredService<AdmissionGrants>().ResetIndex();
    }
}
