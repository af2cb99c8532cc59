using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Control.Faults;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Control.Sandboxes;

/// <summary>
/// Sandboxes (issue 17 §1): isolated organizations with their own data and their own clock, for parallel test suites.
/// <list type="bullet">
/// <item><c>POST /_emulator/sandboxes</c> <c>{"name"?, "seed"?: seed-file object | "default", "clock"?: {"frozenAt"?: ISO}}</c>
/// → 201 <c>{id, name, organizations:[…as GET /_emulator/organizations], clock:{now, mode, offsetSeconds}, createdAt}</c>;
/// 409 when a sandbox of that name exists.</item>
/// <item><c>GET /_emulator/sandboxes</c> → <c>{"sandboxes":[…]}</c>; <c>GET|DELETE /_emulator/sandboxes/{id}</c>
/// (DELETE → 204; removes its organizations, their data in both modes and their scheduled work).</item>
/// <item><c>POST /_emulator/sandboxes/{id}/reset</c> → its data removed, its seed re-applied, its clock back to its initial mode.</item>
/// <item><c>GET /_emulator/sandboxes/{id}/clock</c>, <c>POST …/clock/advance|freeze|set|reset</c>: the bodies of
/// <c>/_emulator/clock</c>, on the sandbox's clock only (advance runs only this sandbox's due work, in time order). The
/// setting is kept in the sandbox's document: it survives a restart on a data directory and travels in snapshots.</item>
/// </list>
/// Unknown id → 404 <c>{"error":"Sandbox not found"}</c>.
/// </summary>
public sealed class SandboxesControlApi : IFeatureModule
{
    public int Order => 5;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<SandboxService>();
        services.AddSingleton<ISandboxLookup>(sp => sp.GetRequiredService<SandboxService>());
        services.AddHostedService<SandboxClockRestorer>();
    }

    public void OnReset(IServiceProvider services) => services.GetRequiredService<SandboxService>().Clear();
    /// <summary>An import gives the sandboxes their clocks itself (<see cref="SandboxService.ReloadClocks"/>).</summary>
    public void OnStateReplaced(IServiceProvider services) { }

    /// <summary>Runs one of <see cref="ClockApi"/>'s moves (advance, freeze, set) on the sandbox's clock, its due work on
    /// the way, and writes the new setting into the sandbox's document.</summary>
    private static async Task<IResult> ChangeClock(string id, HttpRequest req, SandboxService svc, Scheduler scheduler,
        Func<HttpRequest, EmulatorClock, Func<DateTimeOffset, Task>, Task<IResult>> move)
    {
        var clock = svc.ClockOf(svc.Get(id));
        var result = await move(req, clock, t => scheduler.AdvanceToAsync(clock, t));
        svc.SaveClock(id);
        return result;
    }

    /// <summary>A sandbox as every endpoint returns it.</summary>
    public static object View(Sandbox s, SandboxService svc, OrganizationDirectory orgs) => new
    {
        id = s.Id,
        name = s.Name,
        organizations = s.OrganizationIds.Select(orgs.ById).OfType<Organization>().Select(OrganizationsControlApi.View),
        clock = ClockApi.State(svc.ClockOf(s)),
        createdAt = Json.Iso(s.CreatedAt),
    };

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Control.MapGroup("/sandboxes");

        g.MapPost("", async (HttpRequest req, SandboxService svc, OrganizationDirectory orgs, IdGenerator ids) =>
        {
            var body = await BodyReader.ReadAsync(req);
            var name = body.String("name", minLength: 1, maxLength: 100);
            JsonObject? seed = null;
            switch (body.Root["seed"])
            {
                case null: seed = SeedLoader.Bundled(); break;
                case JsonValue v when v.TryGetValue<string>(out var bundled):
                    if (bundled == "default") seed = SeedLoader.Bundled();
                    else body.AddIssue("seed", "invalid_enum_value", "'default' | seed object", v, $"Invalid enum value. Expected 'default' or a seed object, received '{bundled}'");
                    break;
                case JsonObject o:
                    if (o["organizations"] is not JsonArray { Count: > 0 })
                        body.AddIssue("seed", "seed", "a seed with \"organizations\":[{\"name\":…}]", o, "Invalid seed: it names no organization");
                    else seed = o;
                    break;
                case var other:
                    body.AddIssue("seed", "invalid_type", "object | 'default'", other, $"Invalid type: Expected object or 'default' but received {Validation.Describe(other)}");
                    break;
            }
            DateTimeOffset? frozenAt = null;
            var clock = body.Object("clock");
            if (clock is not null)
            {
                var c = BodyReader.Parse(clock.ToJsonString());
                frozenAt = c.DateTime("frozenAt");
                body.Merge(c, "clock");
            }
            body.ThrowIfInvalid();
            name ??= "sandbox-" + ids.NewPrefixed("", 12);
            var s = svc.Create(name, seed!, frozenAt);
            return Results.Json(View(s, svc, orgs), statusCode: 201);
        }).WithName("emulatorSandboxCreate").WithSummary("Create a sandbox: organizations of its own (deterministic keys from its name) and its own clock.");

        g.MapGet("", (SandboxService svc, OrganizationDirectory orgs) =>
            Results.Json(new { sandboxes = svc.All().Select(s => View(s, svc, orgs)) }))
            .WithName("emulatorSandboxList").WithSummary("Every sandbox.");

        g.MapGet("/{id}", (string id, SandboxService svc, OrganizationDirectory orgs) => Results.Json(View(svc.Get(id), svc, orgs)))
            .WithName("emulatorSandboxGet").WithSummary("One sandbox.");

        g.MapDelete("/{id}", (string id, SandboxService svc) =>
        {
            svc.Delete(id);
            return Results.NoContent();
        }).WithName("emulatorSandboxDelete").WithSummary("Delete a sandbox and everything it owns (data, scheduled work, organizations, clock).");

        g.MapPost("/{id}/reset", (string id, SandboxService svc, OrganizationDirectory orgs) => Results.Json(View(svc.Reset(id), svc, orgs)))
            .WithName("emulatorSandboxReset").WithSummary("Remove the sandbox's data, re-apply its seed, put its clock back to its initial mode.");

        var c = g.MapGroup("/{id}/clock");
        c.MapGet("", (string id, SandboxService svc) => ClockApi.Answer(ClockApi.State(svc.ClockOf(svc.Get(id)))))
            .WithName("emulatorSandboxClockGet");
        // Every change of the clock is written into the sandbox's document (Sandbox.Clock): it survives a restart.
        c.MapPost("/advance", (string id, HttpRequest req, SandboxService svc, Scheduler scheduler) =>
            ChangeClock(id, req, svc, scheduler, ClockApi.Advance)).WithName("emulatorSandboxClockAdvance");
        c.MapPost("/freeze", (string id, HttpRequest req, SandboxService svc, Scheduler scheduler) =>
            ChangeClock(id, req, svc, scheduler, ClockApi.Freeze)).WithName("emulatorSandboxClockFreeze");
        c.MapPost("/set", (string id, HttpRequest req, SandboxService svc, Scheduler scheduler) =>
            ChangeClock(id, req, svc, scheduler, ClockApi.Set)).WithName("emulatorSandboxClockSet");
        c.MapPost("/reset", (string id, SandboxService svc) =>
        {
            var clock = svc.ClockOf(svc.Get(id));
            clock.ResetToSystem();
            svc.SaveClock(id);
            return ClockApi.Answer(ClockApi.State(clock));
        }).WithName("emulatorSandboxClockReset");
    }
}

/// <summary>At start, gives the sandboxes kept in the store their clocks back (at their persisted setting).</summary>
public sealed class SandboxClockRestorer(SandboxService sandboxes) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        sandboxes.Restore();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
