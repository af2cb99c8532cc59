using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Sequences;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;
using Fanfare.Emulator.Infrastructure;

namespace Fanfare.Emulator.Distributions;

/// <summary>
/// The admin CRUD of one distribution type (or of waitlists) as <see cref="DistributionAdmin.MapDistributionAdmin{TEngine,T}"/>
/// serves it (admin-part1/2/4.md <c>GET|POST /{type}</c>, <c>GET|PUT|DELETE /{type}/{id}</c>). Engines implement it next to
/// <see cref="IDistributionEngine"/>; they know nothing of HTTP.
/// </summary>
public interface IAdminDistributionEngine<T> where T : class, IDocument
{
    /// <summary>The organization's object as the admin API serves it, or 404 with the type's error (e.g. <c>Queue not found</c>).</summary>
    T Require(string organizationId, string id);

    /// <summary>The organization's objects in creation order (as listed), optionally of one sequence.</summary>
    List<T> List(string organizationId, string? sequenceId);

    /// <summary>Creates from an admin create body; the fields are read from <paramref name="body"/>, which collects
    /// validation issues. Nothing is stored when it has issues (the caller throws).</summary>
    T Create(Organization org, Sequence sequence, BodyReader body, string actor);

    /// <summary>Reads a create body for its issues only and stores nothing: what a create naming no usable sequence reports.</summary>
    void ValidateCreate(Organization org, BodyReader body);

    /// <summary>Applies an admin update body (fields present change); throws the 400 / 409 of the type.</summary>
    T Update(T item, BodyReader body, string actor);

    /// <summary>Deletes (or archives, for the types that archive) and returns the object as it was served.</summary>
    T Delete(T item, string actor);

    /// <summary>The admin shape (e.g. admin-part4.md <c>Queue</c>).</summary>
    JsonObject ToJson(T item);
}

/// <summary>How a create body's <c>sequenceId</c> is read and looked up.</summary>
public enum SequenceIdRule
{
    /// <summary>Any string; any stored sequence of the organization, archived ones included (queues, timed releases,
    /// draws, auctions).</summary>
    AnyStored,
    /// <summary>A UUID (400 otherwise); live (non-archived) sequences only (appointments, waitlists).</summary>
    LiveUuid,
}

/// <summary>
/// Names and per-type rules of one admin CRUD. <see cref="OperationName"/> gives the operationIds
/// <c>get{X}</c>, <c>post{X}</c>, <c>get{X}ById</c>, <c>put{X}ById</c>, <c>delete{X}ById</c> (null: none).
/// The init-only rules record where the types, as first shipped, differ; the defaults are the queue's.
/// </summary>
public sealed record DistributionAdminOptions(string? OperationName, string ListSummary, string CreateSummary, string GetSummary,
    string UpdateSummary, string DeleteSummary)
{
    /// <summary>Who writes are attributed to (<c>createdBy</c>/<c>updatedBy</c>). Default <c>api</c>.</summary>
    public Func<Caller, string> Actor { get; init; } = _ => DistributionFields.ApiActor;

    /// <summary>Whether <c>GET /{type}?sequenceId=</c> filters. Default true.</summary>
    public bool ListFiltersBySequence { get; init; } = true;

    public SequenceIdRule SequenceId { get; init; } = SequenceIdRule.AnyStored;

    /// <summary>When the named sequence is unknown: true reports the body's other issues (400) before the 404
    /// <c>Sequence not found</c>; false answers the 404 at once. Default false.</summary>
    public bool ValidateBeforeSequenceNotFound { get; init; }

    /// <summary>Whether <c>PUT</c> needs a body (an absent one is a 400). Default true.</summary>
    public bool UpdateBodyRequired { get; init; } = true;
}

/// <summary>Maps the five admin CRUD operations of a distribution type on its route group.</summary>
public static class DistributionAdmin
{
    /// <summary>
    /// On <paramref name="group"/> (e.g. <c>/queues</c> on the admin API), secret key required (401 otherwise):
    /// <c>GET ""</c> → <c>{data, pageInfo}</c> (<see cref="Pagination"/>, optional <c>?sequenceId=</c>);
    /// <c>POST ""</c> <c>{sequenceId, …}</c> → the object (404 <c>Sequence not found</c>, 400 <c>validation_error</c>);
    /// <c>GET|PUT|DELETE /{id}</c> → the object (404 from <see cref="IAdminDistributionEngine{T}.Require"/>).
    /// </summary>
    public static RouteGroupBuilder MapDistributionAdmin<TEngine, T>(this RouteGroupBuilder group, DistributionAdminOptions o)
        where TEngine : class, IAdminDistributionEngine<T> where T : class, IDocument =>
        group.MapCrud(o, services => new Crud<T>(services.GetRequiredService<TEngine>()));

    /// <summary>One request's engine, seen without its document type: the endpoints below are then not generic, so the
    /// Request Delegate Generator compiles them ahead of time like every other endpoint (an endpoint declared in a generic
    /// method is built at run time from expression trees when routing first builds its table).</summary>
    private interface ICrud
    {
        IDocument Require(string organizationId, string id);
        IEnumerable<IDocument> List(string organizationId, string? sequenceId);
        IDocument Create(Organization org, Sequence sequence, BodyReader body, string actor);
        void ValidateCreate(Organization org, BodyReader body);
        IDocument Update(IDocument item, BodyReader body, string actor);
        IDocument Delete(IDocument item, string actor);
        JsonObject ToJson(IDocument item);
    }

    private sealed class Crud<T>(IAdminDistributionEngine<T> engine) : ICrud where T : class, IDocument
    {
        public IDocument Require(string organizationId, string id) => engine.Require(organizationId, id);
        public IEnumerable<IDocument> List(string organizationId, string? sequenceId) => engine.List(organizationId, sequenceId);
        public IDocument Create(Organization org, Sequence sequence, BodyReader body, string actor) => engine.Create(org, sequence, body, actor);
        public void ValidateCreate(Organization org, BodyReader body) => engine.ValidateCreate(org, body);
        public IDocument Update(IDocument item, BodyReader body, string actor) => engine.Update((T)item, body, actor);
        public IDocument Delete(IDocument item, string actor) => engine.Delete((T)item, actor);
        public JsonObject ToJson(IDocument item) => engine.ToJson((T)item);
    }

    private static RouteGroupBuilder MapCrud(this RouteGroupBuilder group, DistributionAdminOptions o, Func<IServiceProvider, ICrud> crudOf)
    {
        group.MapGet("", (HttpRequest req, Caller caller) =>
        {
            var org = caller.RequireSecret();
            var engine = crudOf(req.HttpContext.RequestServices);
            var list = engine.List(org.Id, o.ListFiltersBySequence ? req.Query["sequenceId"].FirstOrDefault() : null);
            return Results.Json(Pagination.Page(list.ToList(), x => x.Id, x => engine.ToJson(x), req.Query));
        }).Named(o.OperationName, "get{0}").WithSummary(o.ListSummary);

        group.MapPost("", async (HttpRequest req, Caller caller, DocumentStore store, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            var engine = crudOf(req.HttpContext.RequestServices);
            var body = await BodyReader.ReadAsync(req, required: true);
            var sequence = CreateSequence(o, org, body, engine, store, sequences);
            var item = engine.Create(org, sequence, body, o.Actor(caller));
            body.ThrowIfInvalid();
            return Results.Json(engine.ToJson(item));
        }).Named(o.OperationName, "post{0}").WithSummary(o.CreateSummary);

        group.MapGet("/{id}", (string id, HttpContext ctx, Caller caller) =>
        {
            var engine = crudOf(ctx.RequestServices);
            return Results.Json(engine.ToJson(engine.Require(caller.RequireSecret().Id, id)));
        }).Named(o.OperationName, "get{0}ById").WithSummary(o.GetSummary);

        group.MapPut("/{id}", async (string id, HttpRequest req, Caller caller) =>
        {
            var org = caller.RequireSecret();
            var engine = crudOf(req.HttpContext.RequestServices);
            var item = engine.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: o.UpdateBodyRequired);
            body.ThrowIfInvalid();
            return Results.Json(engine.ToJson(engine.Update(item, body, o.Actor(caller))));
        }).Named(o.OperationName, "put{0}ById").WithSummary(o.UpdateSummary);

        group.MapDelete("/{id}", (string id, HttpContext ctx, Caller caller) =>
        {
            var org = caller.RequireSecret();
            var engine = crudOf(ctx.RequestServices);
            return Results.Json(engine.ToJson(engine.Delete(engine.Require(org.Id, id), o.Actor(caller))));
        }).Named(o.OperationName, "delete{0}ById").WithSummary(o.DeleteSummary);

        return group;
    }

    /// <summary>
    /// The create body's sequence. A missing or malformed <c>sequenceId</c> is a 400 listing every issue of the body
    /// (<see cref="IAdminDistributionEngine{T}.ValidateCreate"/>); an unknown one is a 404 <c>Sequence not found</c>,
    /// after the body's other issues when <see cref="DistributionAdminOptions.ValidateBeforeSequenceNotFound"/>.
    /// </summary>
    private static Sequence CreateSequence(DistributionAdminOptions o, Organization org, BodyReader body,
        ICrud engine, DocumentStore store, SequenceService sequences)
    {
        var live = o.SequenceId == SequenceIdRule.LiveUuid;
        var sequenceId = live ? body.Uuid("sequenceId", required: true) : body.String("sequenceId", required: true);
        var sequence = sequenceId is null ? null
            : live ? sequences.Find(org.Id, sequenceId)
            : store.Get<Sequence>(sequenceId) is { } s && s.OrganizationId == org.Id ? s : null;
        if (sequence is not null) return sequence;
        if (sequenceId is null || o.ValidateBeforeSequenceNotFound)
        {
            engine.ValidateCreate(org, body);
            body.ThrowIfInvalid();
        }
        throw ApiErrors.NotFoundError(SequenceService.NotFound);
    }

    private static RouteHandlerBuilder Named(this RouteHandlerBuilder b, string? operationName, string format) =>
        operationName is null ? b : b.WithName(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, operationName));
}
