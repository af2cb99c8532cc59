using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Distributions.Grants;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Organizations;
using Fanfare.Emulator.Infrastructure;

namespace Fanfare.Emulator.Distributions.Auctions;

/// <summary>
/// Auctions over HTTP; the rules live in <see cref="AuctionEngine"/>.
/// <para>Admin port, secret key (admin-part1.md): <c>GET /auctions</c> (cursor pagination, optional <c>sequenceId</c>
/// filter) → <c>{data:[Auction], pageInfo}</c>; <c>POST /auctions</c> <c>{sequenceId, name, settleAt, auctionType?,
/// autoExtendSeconds?, closeAt?, floorPrice?, minBidIncrement?, openAt?, priceDropAmount?, priceDropIntervalSeconds?,
/// quantity?, reservePrice?, startPrice?, timeZone?}</c> → <c>Auction</c> (404 <c>Sequence not found</c>);
/// <c>GET|PUT|DELETE /auctions/{id}</c> → <c>Auction</c> (404 <c>Auction not found</c>; PUT once settled: 409
/// <c>Cannot update closed distribution</c>).</para>
/// <para>Consumer port (consumer-part1.md): any key of the organization: <c>GET /auctions/{auctionId}</c>,
/// <c>GET …/highest-bid</c> → <c>{amount}</c>, <c>GET …/current-price</c> → <c>{currentPrice, remainingQuantity,
/// auctionEnded}</c>, <c>GET …/bids?organizationId=&amp;limit=</c> (default 20; also callable with only
/// <c>organizationId</c>) → <c>[{isHighest, amount, timestamp, bidderHandle?, consumerId?}]</c>. Consumer access token:
/// <c>POST …/enter</c> → <c>{success:true}</c>, <c>POST …/bid</c> <c>{amount}</c> and <c>GET …/status</c> →
/// <c>{status, admissionGrant?, bidCount, lastBidAmount, winningBidAmount?}</c>, <c>GET …/bids/history?limit=</c>
/// (default 10). Errors: 401 <c>Authentication required</c> (also guests on enter/bid), 404 <c>Auction not found</c>, 423
/// <c>Auction is not open yet</c> + ISO <c>Retry-After</c>, 400 <c>Auction is closed</c>, 400 <c>Bid must be higher than
/// current bid</c>, 400 <c>Bid must meet minimum increment</c>, 409 DENIAL409 <c>DISTRIBUTION_ORDER_LIMIT</c>.</para>
/// <para>Control plane: <c>POST /_emulator/auctions/{id}/settle</c> settles now →
/// <c>{auctionId, settled, settledAt, totalBids, uniqueBidders, winningBidAmount, winnerId}</c>.</para>
/// </summary>
public sealed class AuctionsApi : IFeatureModule
{
    public int Order => 30;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<AuctionEngine>();
        services.AddSingleton<IDistributionEngine>(sp => sp.GetRequiredService<AuctionEngine>());
        services.AddSingleton<IGrantListener, AuctionGrantListener>();
        services.AddSingleton<IJobHandler, AuctionSettleJob>();
    }

    public void OnReset(IServiceProvider services) => services.GetRequiredService<AuctionEngine>().ResetCaches();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        // ---------------- admin (admin-part1.md)
        routes.Admin.MapGroup("/auctions").WithTags("Auctions").MapDistributionAdmin<AuctionEngine, AuctionDistribution>(
            new("Auctions", "List auctions with bidirectional cursor-based pagination", "Create an auction", "Get an auction",
                "Update an auction", "Delete an auction")
            {
                ValidateBeforeSequenceNotFound = true,
            });

        // ---------------- consumer (consumer-part1.md)
        var consumer = routes.Consumer.MapGroup("/auctions").WithTags("Auctions");

        consumer.MapGet("/{auctionId}", (string auctionId, Caller caller, AuctionEngine engine) =>
        {
            var org = caller.RequireOrganization();
            return Results.Json(engine.PublicJson(org, engine.Require(org.Id, auctionId)));
        }).WithName("getAuctionsByAuctionId").WithSummary("Get auction details (public metadata)");

        consumer.MapPost("/{auctionId}/enter", (string auctionId, HttpRequest req, Caller caller, AuctionEngine engine) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var a = engine.Require(org.Id, auctionId);
            return Results.Json(engine.Enter(org, a, who.ConsumerId, who.IsGuest, req.Headers["X-Fingerprint"].ToString()));
        }).WithName("postAuctionsByAuctionIdEnter").WithSummary("Enter an auction");

        consumer.MapPost("/{auctionId}/bid", async (string auctionId, HttpRequest req, Caller caller, AuctionEngine engine) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var a = engine.Require(org.Id, auctionId);
            var body = await BodyReader.ReadAsync(req);
            var amount = body.String("amount", required: !a.IsDutch, format: "decimal");
            body.ThrowIfInvalid();
            return Results.Json(engine.Bid(org, a, who.ConsumerId, who.IsGuest, amount, req.Headers["X-Fingerprint"].ToString()));
        }).WithName("postAuctionsByAuctionIdBid").WithSummary("Place a bid");

        consumer.MapGet("/{auctionId}/status", (string auctionId, Caller caller, AuctionEngine engine) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            return Results.Json(engine.Status(engine.Require(org.Id, auctionId), who.ConsumerId));
        }).WithName("getAuctionsByAuctionIdStatus").WithSummary("Get the current consumer's auction status");

        consumer.MapGet("/{auctionId}/highest-bid", (string auctionId, Caller caller, AuctionEngine engine) =>
        {
            var org = caller.RequireOrganization();
            return Results.Json(engine.HighestBidJson(engine.Require(org.Id, auctionId)));
        }).WithName("getAuctionsByAuctionIdHighestBid").WithSummary("Get the current highest bid");

        consumer.MapGet("/{auctionId}/current-price", (string auctionId, Caller caller, AuctionEngine engine) =>
        {
            var org = caller.RequireOrganization();
            return Results.Json(engine.CurrentPriceJson(engine.Require(org.Id, auctionId)));
        }).WithName("getAuctionsByAuctionIdCurrentPrice").WithSummary("Get the current price (Dutch auction)");

        consumer.MapGet("/{auctionId}/bids", (string auctionId, HttpRequest req, Caller caller, AuctionEngine engine, OrganizationDirectory orgs) =>
        {
            var organizationId = req.Query["organizationId"].FirstOrDefault();
            Organization org;
            if (caller.Organization is not null && !caller.Invalid)
            {
                org = caller.Organization;
                if (!string.IsNullOrEmpty(organizationId) && organizationId != org.Id) throw ApiErrors.NotFoundError(AuctionEngine.NotFound);
            }
            else if (!caller.Invalid && !string.IsNullOrEmpty(organizationId))
                org = orgs.ById(organizationId) ?? throw ApiErrors.NotFoundError(AuctionEngine.NotFound);
            else throw ApiErrors.Unauthorized();
            var limit = Pagination.Limit(req.Query, 20);
            var a = engine.Require(org.Id, auctionId);
            return Results.Json(engine.Bids(a, limit, caller.Kind == CredentialKind.Secret && !caller.Invalid, caller.Consumer?.ConsumerId));
        }).WithName("getAuctionsByAuctionIdBids").WithSummary("Get all bids for the auction");

        consumer.MapGet("/{auctionId}/bids/history", (string auctionId, HttpRequest req, Caller caller, AuctionEngine engine) =>
        {
            var who = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var limit = Pagination.Limit(req.Query, 10);
            return Results.Json(engine.History(engine.Require(org.Id, auctionId), who.ConsumerId, limit));
        }).WithName("getAuctionsByAuctionIdBidsHistory").WithSummary("Get the consumer's bid history");

        // ---------------- control plane
        routes.Control.MapPost("/auctions/{id}/settle", (string id, AuctionEngine engine, OrganizationDirectory orgs) =>
        {
            foreach (var org in orgs.All())
                if (engine.Get(org.Id, id) is { } a) return Results.Json(engine.Settle(a));
            throw ApiErrors.NotFoundError(AuctionEngine.NotFound);
        }).WithName("emulatorSettleAuction").WithSummary("Settle an auction now (QA helper)");
    }
}
