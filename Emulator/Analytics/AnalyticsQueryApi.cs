using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Analytics;

/// <summary>
/// <c>POST /analytics/query</c> on the admin port (admin-part1.md, secret key) <c>{interval, timeRange, measures:[{name, unit,
/// op, event, field?}], where?:[{path, op, value}], groupBy?:{field:"segment_rfm"}}</c> → 200 <c>{meta:{[name]:{unit,
/// currency?}}, data:[{time_bucket, series:{[name]: number|string}, segment_rfm?}]}</c> over the emulator's real records
/// (see <see cref="AnalyticsQueryEngine"/>). A malformed query → 400 <c>validation_error</c> with every issue.
/// </summary>
public sealed class AnalyticsQueryApi : IFeatureModule
{
    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<AnalyticsQueryEngine>();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        routes.Admin.MapPost("/analytics/query", async (HttpRequest req, Caller caller, AnalyticsQueryEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var query = engine.Parse(body, org.Id);
            return Results.Json(engine.Run(org, caller.Environment, query));
        }).WithTags("Analytics").WithName("postAnalyticsQuery").WithSummary("Query analytics using the metrics DSL (beta)");
    }
}
