using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Messaging;

/// <summary>
/// The fake inbox and SMS sink (what the real service would have sent):
/// <list type="bullet">
/// <item><c>GET /_emulator/inbox?to=</c> → <c>{"messages":[{id,organizationId,to,from,subject,text,html,code,sentAt,relay:{status,error}}]}</c>, newest first.</item>
/// <item><c>GET /_emulator/inbox/latest?to=&amp;waitSeconds=N</c> → the newest message, waiting up to N s (max 60) for one; 404 <c>{"error":"Not found"}</c> when none.</item>
/// <item><c>GET /_emulator/inbox/{id}/raw</c> → the RFC 5322 message as MimeKit wrote it, <c>message/rfc822</c>.</item>
/// <item><c>DELETE /_emulator/inbox[?to=]</c> → 204.</item>
/// </list>
/// The same under <c>/_emulator/sms</c> with <c>to</c> in E.164 and <c>body</c> instead of subject/text/html.
/// </summary>
public sealed class InboxApi : IFeatureModule
{
    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<MessageOutbox>();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        foreach (var (path, channel) in new[] { ("/inbox", "email"), ("/sms", "sms") })
        {
            var g = routes.Control.MapGroup(path);
            object View(OutboundMessage m) => channel == "email" ? m.EmailView() : m.SmsView();

            g.MapGet("", (string? to, MessageOutbox box) =>
                Results.Json(new { messages = box.List(channel, Norm(to)).Select(View) })).WithName($"{channel}List");

            g.MapGet("/latest", async (string? to, double? waitSeconds, MessageOutbox box, CancellationToken ct) =>
            {
                if (waitSeconds is double w && double.IsNaN(w))
                    throw Validation.Single("waitSeconds", "number", "number", "NaN", "Invalid type: Expected number but received NaN", "schema");
                var wait = TimeSpan.FromSeconds(Math.Clamp(waitSeconds ?? 0, 0, 60));
                var m = await box.LatestAsync(channel, Norm(to), wait, ct);
                return m is null ? ApiErrors.Result(404, ApiErrors.NotFound) : Results.Json(View(m));
            }).WithName($"{channel}Latest");

            g.MapGet("/{id}", (string id, MessageOutbox box) =>
                box.List(channel, null).FirstOrDefault(m => m.Id == id) is { } m ? Results.Json(View(m)) : ApiErrors.Result(404, ApiErrors.NotFound))
                .WithName($"{channel}Get");

            g.MapGet("/{id}/raw", (string id, MessageOutbox box) =>
                box.List(channel, null).FirstOrDefault(m => m.Id == id) is { } m
                    ? Results.Text(channel == "email" ? MessageOutbox.RawOf(m) : m.Body ?? "", channel == "email" ? "message/rfc822" : "text/plain")
                    : ApiErrors.Result(404, ApiErrors.NotFound)).WithName($"{channel}Raw");

            g.MapDelete("", (string? to, MessageOutbox box) =>
            {
                box.Clear(channel, Norm(to));
                return Results.NoContent();
            }).WithName($"{channel}Clear");
        }
    }

    private static string? Norm(string? to) => string.IsNullOrWhiteSpace(to) ? null : to.Trim();
}
