using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Infrastructure;

namespace Fanfare.Emulator.Distributions.Sequences;

/// <summary>
/// Admin sequences (secret key; admin-part4.md), all 200 with a body:
/// <list type="bullet">
/// <item><c>GET /sequences</c> (<c>?experienceId=</c> filter) → <c>{data:[SequenceWithRelations], pageInfo}</c>;
/// <c>POST /sequences</c> <c>{name, accessCode?, audienceId?, color?, experienceId?, priority?, productSelectionMode?}</c> → <c>Sequence</c>;
/// <c>GET /sequences/{id}</c> → <c>SequenceWithRelations</c>; <c>PUT</c>/<c>DELETE</c> → <c>Sequence</c> (DELETE archives it with
/// its distributions and waitlist).</item>
/// <item><c>GET /sequences/{id}/metrics</c> → <c>{subscriberCount}</c> (active waitlist entries).</item>
/// <item><c>GET|POST|PUT /sequences/{id}/products</c>, <c>GET|PUT|DELETE /sequences/{id}/products/{productId}</c> → <c>SequenceProduct</c>(s)
/// (weight 1..1000; a duplicate product is a 400 <c>unique</c> issue).</item>
/// <item><c>GET|POST /sequences/{id}/order-limits</c>, <c>GET|PUT|DELETE /sequences/{id}/order-limits/{limitId}</c> → <c>SequenceOrderLimit</c>(s).</item>
/// <item><c>GET /sequences/{id}/waitlist</c> → <c>Waitlist</c>; <c>GET …/waitlist/consumers</c> → <c>[WaitlistEntry &amp; {consumer}]</c>;
/// <c>POST …/waitlist/enter</c> <c>{consumerId? | email?}</c> → <c>WaitlistEntry</c> (an unknown email creates the consumer).</item>
/// </list>
/// Errors: 404 <c>Sequence not found</c>, <c>Experience not found</c>, <c>Sequence product not found</c>, <c>Order limit not found</c>,
/// <c>Waitlist not found</c>, <c>Consumer not found</c>; 400 <c>validation_error</c>; 401.
/// </summary>
public sealed class SequencesApi : IFeatureModule
{
    public int Order => 40;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<SequenceService>();
        services.AddSingleton<OrderLimits>();
    }

    private static readonly string[] WindowTypes = ["rolling", "calendar"];

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/sequences").WithTags("Sequences");

        g.MapGet("", (HttpRequest req, string? experienceId, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(Pagination.Page(sequences.List(org.Id, experienceId), s => s.Id, s => sequences.ToJson(s, relations: true), req.Query));
        }).WithName("getSequences").WithSummary("List sequences with bidirectional cursor-based pagination");

        g.MapPost("", async (HttpRequest req, Caller caller, SequenceService sequences, ExperienceService experiences) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var f = SequenceFields.Read(body, create: true, withExperienceId: true);
            body.ThrowIfInvalid();
            if (f.ExperienceId is not null) experiences.Require(org.Id, f.ExperienceId);
            return Results.Json(sequences.ToJson(sequences.Create(org, f, f.ExperienceId, caller.Actor()), relations: false));
        }).WithName("postSequences").WithSummary("Create a sequence");

        g.MapGet("/{id}", (string id, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(sequences.ToJson(sequences.Require(org.Id, id), relations: true));
        }).WithName("getSequencesBySequenceId").WithSummary("Get a sequence");

        g.MapPut("/{id}", async (string id, HttpRequest req, Caller caller, SequenceService sequences, ExperienceService experiences) =>
        {
            var org = caller.RequireSecret();
            var s = sequences.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req);
            var f = SequenceFields.Read(body, create: false, withExperienceId: true);
            body.ThrowIfInvalid();
            if (f.ExperienceId is not null) experiences.Require(org.Id, f.ExperienceId);
            return Results.Json(sequences.ToJson(sequences.Update(s, f, caller.Actor()), relations: false));
        }).WithName("putSequencesBySequenceId").WithSummary("Update a sequence");

        g.MapDelete("/{id}", (string id, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(sequences.ToJson(sequences.Archive(sequences.Require(org.Id, id), caller.Actor()), relations: false));
        }).WithName("deleteSequencesBySequenceId").WithSummary("Delete a sequence");

        g.MapGet("/{id}/metrics", (string id, Caller caller, SequenceService sequences, WaitlistEngine waitlists) =>
        {
            var org = caller.RequireSecret();
            var s = sequences.Require(org.Id, id);
            var count = waitlists.ForSequence(org.Id, s.Id) is { } w ? waitlists.Entries(w).Count(e => WaitlistStatus.IsActive(e.Status)) : 0;
            return Results.Json(new JsonObject { ["subscriberCount"] = count });
        }).WithName("getSequencesBySequenceIdMetrics").WithSummary("Get metrics for a sequence");

        // ---- weighted products
        g.MapGet("/{id}/products", (string id, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(new JsonArray(sequences.Products(sequences.Require(org.Id, id)).Select(p => (JsonNode)p.ToJson()).ToArray()));
        }).WithName("getSequencesBySequenceIdProducts").WithSummary("List weighted products for a sequence");

        g.MapPost("/{id}/products", async (string id, HttpRequest req, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            var s = sequences.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: true);
            var productId = body.Uuid("productId", required: true);
            var weight = body.Int("weight", required: true, min: 1, max: 1000);
            body.ThrowIfInvalid();
            return Results.Json(sequences.AddProduct(s, productId!, weight!.Value, caller.Actor()).ToJson());
        }).WithName("postSequencesBySequenceIdProducts").WithSummary("Add a weighted product to a sequence");

        g.MapPut("/{id}/products", async (string id, HttpRequest req, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            var s = sequences.Require(org.Id, id);
            string text;
            using (var sr = new StreamReader(req.Body)) text = await sr.ReadToEndAsync();
            var wrapper = BodyReader.Parse("{\"items\":" + (string.IsNullOrWhiteSpace(text) ? "null" : text) + "}");
            var items = new List<(string, int)>();
            var arr = wrapper.Array("items", required: true);
            for (int i = 0; i < (arr?.Count ?? 0); i++)
            {
                var p = RequestChecks.Nested(arr![i]);
                var productId = p.Uuid("productId", required: true);
                var weight = p.Int("weight", required: true, min: 1, max: 1000);
                wrapper.Absorb(p, [RequestChecks.Step(arr, i)]);
                if (productId is not null && weight is not null) items.Add((productId, weight.Value));
            }
            wrapper.ThrowIfInvalid();
            return Results.Json(new JsonArray(sequences.ReplaceProducts(s, items, caller.Actor()).Select(p => (JsonNode)p.ToJson()).ToArray()));
        }).WithName("putSequencesBySequenceIdProducts").WithSummary("Replace all weighted products for a sequence (bulk upsert)");

        g.MapGet("/{id}/products/{productId}", (string id, string productId, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(sequences.RequireProduct(sequences.Require(org.Id, id), productId).ToJson());
        }).WithName("getSequencesBySequenceIdProductsByProductId").WithSummary("Get a sequence product by product ID");

        g.MapPut("/{id}/products/{productId}", async (string id, string productId, HttpRequest req, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            var p = sequences.RequireProduct(sequences.Require(org.Id, id), productId);
            var body = await BodyReader.ReadAsync(req);
            var weight = body.Int("weight", min: 1, max: 1000);
            body.ThrowIfInvalid();
            return Results.Json(sequences.UpdateProduct(p, weight, caller.Actor()).ToJson());
        }).WithName("putSequencesBySequenceIdProductsByProductId").WithSummary("Update a sequence product's weight");

        g.MapDelete("/{id}/products/{productId}", (string id, string productId, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(sequences.DeleteProduct(sequences.RequireProduct(sequences.Require(org.Id, id), productId)).ToJson());
        }).WithName("deleteSequencesBySequenceIdProductsByProductId").WithSummary("Remove a product from a sequence's mystery box configuration");

        // ---- order limits
        g.MapGet("/{id}/order-limits", (string id, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(new JsonArray(sequences.OrderLimits(sequences.Require(org.Id, id)).Select(l => (JsonNode)l.ToJson()).ToArray()));
        }).WithName("getSequencesBySequenceIdOrderLimits").WithSummary("List order limits for a sequence");

        g.MapPost("/{id}/order-limits", async (string id, HttpRequest req, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            var s = sequences.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: true);
            var sequenceId = body.Uuid("sequenceId", required: true);
            if (sequenceId is not null && sequenceId != s.Id)
                body.AddIssue("sequenceId", "value", "\"" + s.Id + "\"", body.Root["sequenceId"], "Invalid sequenceId: must match the path's sequence");
            var productId = body.Uuid("productId", required: true);
            var max = body.Int("maxQuantity", required: true, min: 1);
            var variantId = body.Uuid("productVariantId", nullable: true);
            var window = body.Int("timeWindowSeconds", nullable: true, min: 1, max: 2_592_000);
            var windowType = body.Enum("timeWindowType", WindowTypes, nullable: true);
            body.ThrowIfInvalid();
            return Results.Json(sequences.AddOrderLimit(s, productId!, variantId, max!.Value, window, windowType, caller.Actor()).ToJson());
        }).WithName("postSequencesBySequenceIdOrderLimits").WithSummary("Create an order limit for a sequence");

        g.MapGet("/{id}/order-limits/{limitId}", (string id, string limitId, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(sequences.RequireOrderLimit(sequences.Require(org.Id, id), limitId).ToJson());
        }).WithName("getSequencesBySequenceIdOrderLimitsByLimitId").WithSummary("Get a sequence order limit");

        g.MapPut("/{id}/order-limits/{limitId}", async (string id, string limitId, HttpRequest req, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            var l = sequences.RequireOrderLimit(sequences.Require(org.Id, id), limitId);
            var body = await BodyReader.ReadAsync(req);
            var max = body.Int("maxQuantity", min: 1);
            var window = body.Int("timeWindowSeconds", nullable: true, min: 1, max: 2_592_000);
            var windowType = body.Enum("timeWindowType", WindowTypes, nullable: true);
            body.ThrowIfInvalid();
            return Results.Json(sequences.UpdateOrderLimit(l, body, max, window, windowType, caller.Actor()).ToJson());
        }).WithName("putSequencesBySequenceIdOrderLimitsByLimitId").WithSummary("Update a sequence order limit");

        g.MapDelete("/{id}/order-limits/{limitId}", (string id, string limitId, Caller caller, SequenceService sequences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(sequences.DeleteOrderLimit(sequences.RequireOrderLimit(sequences.Require(org.Id, id), limitId)).ToJson());
        }).WithName("deleteSequencesBySequenceIdOrderLimitsByLimitId").WithSummary("Delete a sequence order limit");

        // ---- waitlist
        g.MapGet("/{id}/waitlist", (string id, Caller caller, SequenceService sequences, WaitlistEngine waitlists) =>
        {
            var org = caller.RequireSecret();
            var s = sequences.Require(org.Id, id);
            return Results.Json((waitlists.ForSequence(org.Id, s.Id) ?? throw ApiErrors.NotFoundError(WaitlistEngine.NotFound)).ToJson());
        }).WithName("getSequencesBySequenceIdWaitlist").WithSummary("Get the waitlist for a sequence");

        g.MapGet("/{id}/waitlist/consumers", (string id, Caller caller, SequenceService sequences, WaitlistEngine waitlists, ConsumerDirectory directory) =>
        {
            var org = caller.RequireSecret();
            var s = sequences.Require(org.Id, id);
            var w = waitlists.ForSequence(org.Id, s.Id) ?? throw ApiErrors.NotFoundError(WaitlistEngine.NotFound);
            var arr = new JsonArray();
            foreach (var e in waitlists.Entries(w))
            {
                waitlists.Refresh(e);
                var j = e.ToAdminJson();
                if (directory.Get(org.Id, e.ConsumerId) is { } c) j["consumer"] = ConsumerProfiles.Admin(c);
                arr.Add(j);
            }
            return Results.Json(arr);
        }).WithName("getSequencesBySequenceIdWaitlistConsumers").WithSummary("Get all waitlist consumers for a sequence");

        g.MapPost("/{id}/waitlist/enter", async (string id, HttpRequest req, Caller caller, SequenceService sequences, WaitlistEngine waitlists,
            ConsumerDirectory directory, DocumentStore store) =>
        {
            var org = caller.RequireSecret();
            var s = sequences.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req);
            var consumerId = body.Uuid("consumerId", nullable: true);
            var email = body.String("email", nullable: true, format: "email");
            if (consumerId is null && email is null && !body.HasIssues)
                body.AddIssue("consumerId", "string", "consumerId or email", null, "Invalid type: Expected consumerId or email but received undefined", "schema");
            body.ThrowIfInvalid();
            var w = waitlists.ForSequence(org.Id, s.Id) ?? throw ApiErrors.NotFoundError(WaitlistEngine.NotFound);
            var entry = store.Transaction(() =>
            {
                var consumer = consumerId is not null
                    ? directory.Get(org.Id, consumerId) ?? throw ApiErrors.NotFoundError("Consumer not found")
                    : directory.ByEmail(org.Id, email!.Trim().ToLowerInvariant()) ?? directory.Create(org.Id, "admin", email!.Trim().ToLowerInvariant());
                return waitlists.Enter(org, w, consumer.Id);
            });
            return Results.Json(entry.ToAdminJson());
        }).WithName("postSequencesBySequenceIdWaitlistEnter").WithSummary("Enter a waitlist");
    }
}
