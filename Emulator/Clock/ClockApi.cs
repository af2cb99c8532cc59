using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Scheduling;

namespace Fanfare.Emulator.Clock;

/// <summary>
/// The controllable clock (every expiry reads it). Each call returns the clock's state
/// <c>{"now":ISO,"mode":"system"|"frozen"|"offset","offsetSeconds":N}</c>:
/// <list type="bullet">
/// <item><c>GET /_emulator/clock</c></item>
/// <item><c>POST /_emulator/clock/advance</c> <c>{"seconds":N}</c> or <c>{"duration":"PT10M"}</c> — runs everything that
/// falls due on the way, in time order, before it answers.</item>
/// <item><c>POST /_emulator/clock/freeze</c> <c>{"at"?:ISO}</c> — stops time (at now, or at <c>at</c>).</item>
/// <item><c>POST /_emulator/clock/set</c> <c>{"now":ISO}</c> — jumps (forward runs due work; backwards does not).</item>
/// <item><c>POST /_emulator/clock/reset</c> — back to system time.</item>
/// </list>
/// Bad input → 400 <c>validation_error</c>.
/// </summary>
public sealed class ClockApi : IFeatureModule
{
    public int Order => 0;

    /// <summary>The clock's state as every clock call answers it.</summary>
    public static ClockView State(EmulatorClock clock) => new(Json.Iso(clock.GetUtcNow()), clock.Mode, clock.OffsetSeconds);

    /// <summary>The answer of every clock call (<see cref="State"/>).</summary>
    internal static IResult Answer(ClockView state) => TypedResults.Json(state, ClockJson.Default.ClockView);

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Control.MapGroup("/clock");
        g.MapGet("", (EmulatorClock clock) => Answer(State(clock))).WithName("clockGet");

        g.MapPost("/advance", (HttpRequest req, EmulatorClock clock, Scheduler scheduler) =>
            Advance(req, clock, t => scheduler.AdvanceToAsync(t))).WithName("clockAdvance");

        g.MapPost("/freeze", (HttpRequest req, EmulatorClock clock, Scheduler scheduler) =>
            Freeze(req, clock, t => scheduler.AdvanceToAsync(t))).WithName("clockFreeze");

        g.MapPost("/set", (HttpRequest req, EmulatorClock clock, Scheduler scheduler) =>
            Set(req, clock, t => scheduler.AdvanceToAsync(t))).WithName("clockSet");

        g.MapPost("/reset", (EmulatorClock clock) =>
        {
            clock.ResetToSystem();
            return Answer(State(clock));
        }).WithName("clockReset");
    }

    /// <summary><c>…/clock/advance</c> on <paramref name="clock"/>; <paramref name="advanceTo"/> moves it running due work.</summary>
    internal static async Task<IResult> Advance(HttpRequest req, EmulatorClock clock, Func<DateTimeOffset, Task> advanceTo)
    {
            var body = await BodyReader.ReadAsync(req, required: true);
            var seconds = body.Number("seconds", min: 0);
            var duration = body.String("duration");
            TimeSpan by = TimeSpan.Zero;
            // Seconds left before DateTimeOffset.MaxValue: a larger step is a 400, not an overflow (500).
            var room = Math.Floor((DateTimeOffset.MaxValue - clock.GetUtcNow()).TotalSeconds);
            if (duration is not null)
            {
                try { by = IsoDuration.Parse(duration); }
                catch (Exception e) when (e is FormatException or OverflowException) { body.AddIssue("duration", "iso_duration", "ISO 8601 duration", body.Root["duration"], $"Invalid duration: Received \"{duration}\""); }
                if (by < TimeSpan.Zero) body.AddIssue("duration", "min_value", ">=PT0S", body.Root["duration"], "Invalid duration: the clock only moves forward");
                else if (by.TotalSeconds > room) body.AddIssue("duration", "max_value", $"<=PT{room}S", body.Root["duration"], $"Invalid duration: Expected <=PT{room}S but received \"{duration}\"");
            }
            else if (seconds is double s && s > room)
                body.AddIssue("seconds", "max_value", $"<={room}", body.Root["seconds"], $"Invalid value: Expected <={room} but received {body.Root["seconds"]!.ToJsonString()}");
            else if (seconds is double ok && !body.HasIssues) by = TimeSpan.FromSeconds(ok);
            else if (!body.HasIssues) body.AddIssue("seconds", "number", "number", null, "Invalid type: Expected number but received undefined", "schema");
            body.ThrowIfInvalid();
            await advanceTo(EmulatorClock.Truncate(clock.GetUtcNow() + by));
            return Answer(State(clock));
    }

    /// <summary><c>…/clock/freeze</c> on <paramref name="clock"/>.</summary>
    internal static async Task<IResult> Freeze(HttpRequest req, EmulatorClock clock, Func<DateTimeOffset, Task> advanceTo)
    {
            var body = await BodyReader.ReadAsync(req);
            var at = body.DateTime("at");
            body.ThrowIfInvalid();
            var now = clock.GetUtcNow();
            clock.Freeze(now);
            if (at is { } t0)
            {
                var t = EmulatorClock.Truncate(t0);
                if (t > now) await advanceTo(t); else clock.Freeze(t);
            }
            return Answer(State(clock));
    }

    /// <summary><c>…/clock/set</c> on <paramref name="clock"/>.</summary>
    internal static async Task<IResult> Set(HttpRequest req, EmulatorClock clock, Func<DateTimeOffset, Task> advanceTo)
    {
            var body = await BodyReader.ReadAsync(req, required: true);
            var at = body.DateTime("now", required: true, nullable: false);
            body.ThrowIfInvalid();
            var to = EmulatorClock.Truncate(at!.Value);
            if (to > clock.GetUtcNow()) await advanceTo(to);
            else clock.MoveTo(to);
            return Answer(State(clock));
    }
}

/// <summary>The emulator clock's state (every <c>/_emulator/clock</c> call): <c>now</c> (UTC ISO 8601), <c>mode</c>
/// (<c>system</c>, <c>frozen</c> or <c>offset</c>), <c>offsetSeconds</c> (seconds ahead of system time).</summary>
public sealed record ClockView(string Now, string Mode, double OffsetSeconds);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ClockView))]
internal sealed partial class ClockJson : System.Text.Json.Serialization.JsonSerializerContext;
