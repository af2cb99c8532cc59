using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Control.Journal;

/// <summary>
/// The request journal on the control plane, so a failing integration test can print what its code really sent:
/// <list type="bullet">
/// <item><c>GET /_emulator/requests?api=&amp;method=&amp;path=&amp;status=&amp;since=&amp;limit=</c> → <c>{requests:
/// [JournalEntry…], capacity, recorded}</c>, newest first. <c>path</c> matches a template or glob like fault rules
/// (<c>/queues/{id}/enter</c>, <c>/auth/**</c>); <c>status</c> is a code (<c>429</c>) or a class (<c>4xx</c>);
/// <c>since</c> an ISO 8601 instant on the emulator clock; <c>limit</c> 1–1000 (default 100).</item>
/// <item><c>DELETE /_emulator/requests</c> empties it (204).</item>
/// </list>
/// The journal is bounded (<c>Emulator:RequestJournalSize</c>, default 1000 requests; bodies kept up to
/// <c>Emulator:RequestJournalBodyLimit</c> bytes, default 8192); reset empties it. The control plane itself is not recorded.
/// </summary>
public sealed class RequestsControlApi : IFeatureModule
{
    /// <summary>Outermost of the feature middlewares: sees what faults answered.</summary>
    public int Order => 50;

    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<RequestJournal>();

    public void UsePipeline(IApplicationBuilder app) => app.UseMiddleware<RequestJournalMiddleware>();

    public void OnReset(IServiceProvider services) => services.GetRequiredService<RequestJournal>().Clear();
    /// <summary>Not in a snapshot: an import keeps it.</summary>
    public void OnStateReplaced(IServiceProvider services) { }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Control.MapGroup("/requests").WithTags("Emulator request journal");
        g.MapGet("", (string? api, string? method, string? path, string? status, string? since, int? limit, RequestJournal journal) =>
        {
            var issues = new List<ValidationIssue>();
            void Bad(string key, string expected, string received, string message) =>
                issues.Add(new ValidationIssue("schema", "query", expected, received, message,
                    [new System.Text.Json.Nodes.JsonObject { ["type"] = "query", ["origin"] = "value", ["key"] = key }]));
            if (api is not null && !Faults.FaultInjector.Apis.Contains(api)) Bad("api", "\"admin\" | \"consumer\" | \"beacon\" | \"checkout\"", api, "Invalid api");
            int? code = null; int? klass = null;
            if (status is not null)
            {
                if (status.Length == 3 && status.EndsWith("xx", StringComparison.OrdinalIgnoreCase) && char.IsAsciiDigit(status[0])) klass = status[0] - '0';
                else if (int.TryParse(status, out var c) && c is >= 100 and <= 599) code = c;
                else Bad("status", "100–599 or 1xx–5xx", status, "Invalid status");
            }
            DateTimeOffset? from = null;
            if (since is not null)
            {
                if (DateTimeOffset.TryParse(since, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t)) from = t;
                else Bad("since", "ISO 8601 instant", since, "Invalid since");
            }
            if (limit is < 1 or > 1000) Bad("limit", "1–1000", limit.ToString()!, "Invalid limit");
            var rx = path is { Length: > 0 } ? Faults.FaultInjector.PathPattern(path) : null;
            if (issues.Count > 0) throw Validation.Exception(issues);
            var list = journal.Query(e =>
                (api is null || e.Api == api) &&
                (method is null || string.Equals(e.Method, method, StringComparison.OrdinalIgnoreCase)) &&
                (rx is null || rx.IsMatch(e.Path)) &&
                (code is null || e.Status == code) && (klass is null || e.Status / 100 == klass) &&
                (from is null || e.At >= from), limit ?? 100);
            return TypedResults.Json(new JournalPage(list, journal.Capacity, journal.Recorded), JournalJson.Default.JournalPage);
        }).WithName("emulatorRequests").WithSummary("Requests the emulated APIs received, newest first");

        g.MapDelete("", (RequestJournal journal) => { journal.Clear(); return Results.NoContent(); })
            .WithName("emulatorRequestsClear").WithSummary("Empty the request journal");
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(JournalPage))]
internal sealed partial class JournalJson : System.Text.Json.Serialization.JsonSerializerContext;
