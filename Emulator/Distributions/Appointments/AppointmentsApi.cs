using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Distributions.Appointments;

/// <summary>
/// Appointments over HTTP (engine: <see cref="AppointmentEngine"/>).
/// Admin (secret key; admin-part1.md): <c>GET|POST /appointments</c>, <c>GET|PUT|DELETE /appointments/{id}</c> →
/// <c>Appointment</c>; <c>GET /appointments/{id}/slots?startDate&amp;endDate&amp;timezone?</c> → <c>{appointmentId, date, timezone,
/// slots:[{id, appointmentId, startTime, endTime, available, maxCapacity, bookedCount, percentageFilled, attendees}], locationId}</c>;
/// <c>GET …/slots/{slotId}/attendees?page&amp;limit</c>; <c>DELETE …/slots/{slotId}/attendees/{consumerId}</c> → <c>{success, message}</c>.
/// Consumer (consumer-part1.md): <c>GET /appointments/{id}</c> and <c>GET …/slots</c> with any key of the organization;
/// <c>POST …/book</c> <c>{slotId}</c>, <c>POST …/cancel</c> <c>{slotId, reason?}</c>, <c>POST …/reschedule</c> <c>{newSlotId}</c>,
/// <c>GET …/me</c> with a consumer access token (401 <c>Authentication required</c>). Booking needs a verified consumer
/// (behavior.md §3.10: no guests for appointments): a guest gets 403 <c>{"error":"User must be authenticated"}</c>.
/// Slot dates: <c>YYYY-MM-DD</c> (whole days in <c>timezone</c>, default the appointment's; end date inclusive) or ISO date-times.
/// </summary>
public sealed class AppointmentsApi : IFeatureModule
{
    public int Order => 30;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<AppointmentEngine>();
        services.AddSingleton<IDistributionEngine>(sp => sp.GetRequiredService<AppointmentEngine>());
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        MapAdmin(routes.Admin.MapGroup("/appointments").WithTags("Appointments"));
        MapConsumer(routes.Consumer.MapGroup("/appointments").WithTags("Appointments"));
    }

    private static (DateTimeOffset From, DateTimeOffset To, string Zone) Window(HttpRequest req, AppointmentDistribution d)
    {
        var start = RequestChecks.RequiredQuery(req.Query, "startDate");
        var end = RequestChecks.RequiredQuery(req.Query, "endDate");
        var zoneId = req.Query["timezone"].FirstOrDefault() is { Length: > 0 } z ? z : d.TimeZone;
        var (from, to) = AppointmentEngine.Window(start, end, RequestChecks.Zone(zoneId));
        return (from, to, zoneId);
    }

    private static void MapAdmin(RouteGroupBuilder g)
    {
        g.MapDistributionAdmin<AppointmentEngine, AppointmentDistribution>(
            new("Appointments", "List appointments with bidirectional cursor-based pagination", "Create an appointment",
                "Get an appointment", "Update an appointment", "Delete an appointment")
            {
                Actor = c => c.Actor(), ListFiltersBySequence = false, SequenceId = SequenceIdRule.LiveUuid, UpdateBodyRequired = false,
            });

        g.MapGet("/{id}/slots", (string id, HttpRequest req, Caller caller, AppointmentEngine engine) =>
        {
            var org = caller.RequireSecret();
            var d = engine.Require(org.Id, id);
            var (from, to, zone) = Window(req, d);
            var date = TimeZoneInfo.ConvertTime(from, RequestChecks.Zone(zone)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            return Results.Json(engine.AdminSlots(d, from, to, zone, date));
        }).WithName("getAppointmentsByAppointmentIdSlots").WithSummary("Get appointment slots with availability and booking information");

        g.MapGet("/{id}/slots/{slotId}/attendees", (string id, string slotId, HttpRequest req, Caller caller, AppointmentEngine engine) =>
        {
            var org = caller.RequireSecret();
            var d = engine.Require(org.Id, id);
            var page = RequestChecks.OptionalIntQuery(req.Query, "page", 1, 1, int.MaxValue);
            var limit = RequestChecks.OptionalIntQuery(req.Query, "limit", 20, 1, 100);
            return Results.Json(engine.Attendees(d, slotId, page, limit));
        }).WithName("getAppointmentsByAppointmentIdSlotsBySlotIdAttendees").WithSummary("Get attendees for a specific appointment slot");

        g.MapDelete("/{id}/slots/{slotId}/attendees/{consumerId}", (string id, string slotId, string consumerId, Caller caller, AppointmentEngine engine) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(engine.CancelAttendee(engine.Require(org.Id, id), slotId, consumerId));
        }).WithName("deleteAppointmentsByAppointmentIdSlotsBySlotIdAttendeesByConsumerId").WithSummary("Cancel an attendee's appointment slot booking");
    }

    private static void MapConsumer(RouteGroupBuilder g)
    {
        g.MapGet("/{id}", (string id, Caller caller, AppointmentEngine engine) =>
            Results.Json(AppointmentEngine.PublicJson(engine.Require(caller.RequireOrganization().Id, id))))
            .WithName("getAppointmentsByAppointmentId").WithSummary("Get appointment details (public metadata)");

        g.MapGet("/{id}/slots", (string id, HttpRequest req, Caller caller, AppointmentEngine engine) =>
        {
            var org = caller.RequireOrganization();
            var d = engine.Require(org.Id, id);
            var (from, to, zone) = Window(req, d);
            return Results.Json(engine.ConsumerSlots(d, from, to, zone));
        }).WithName("getAppointmentsByAppointmentIdSlotsConsumer").WithSummary("Get available appointment slots");

        g.MapPost("/{id}/book", async (string id, HttpRequest req, Caller caller, AppointmentEngine engine) =>
        {
            var principal = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var d = engine.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: true);
            var slotId = body.String("slotId", required: true, minLength: 1);
            body.String("locationId", nullable: true);
            body.ThrowIfInvalid();
            if (principal.IsGuest)
                throw ApiErrors.Forbidden("User must be authenticated", "Guest sessions cannot book appointments; verify an email or phone first.");
            return Results.Json(AppointmentEngine.BookingJson(engine.Book(org, d, principal.ConsumerId, slotId!)));
        }).WithName("postAppointmentsByAppointmentIdBook").WithSummary("Book an appointment");

        g.MapPost("/{id}/cancel", async (string id, HttpRequest req, Caller caller, AppointmentEngine engine) =>
        {
            var principal = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var d = engine.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: true);
            var slotId = body.String("slotId", required: true, minLength: 1);
            body.String("locationId", nullable: true);
            var reason = body.String("reason", nullable: true);
            body.ThrowIfInvalid();
            var b = engine.CancelBySlot(d, principal.ConsumerId, slotId!, reason);
            return Results.Json(new JsonObject { ["message"] = "Appointment cancelled successfully", ["bookingId"] = b.Id });
        }).WithName("postAppointmentsByAppointmentIdCancel").WithSummary("Cancel an appointment");

        g.MapPost("/{id}/reschedule", async (string id, HttpRequest req, Caller caller, AppointmentEngine engine) =>
        {
            var principal = caller.RequireConsumer();
            var org = caller.RequireOrganization();
            var d = engine.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: true);
            var newSlotId = body.String("newSlotId", required: true, minLength: 1);
            body.String("newLocationId", nullable: true);
            body.ThrowIfInvalid();
            var (b, previous) = engine.Reschedule(org, d, principal.ConsumerId, newSlotId!);
            return Results.Json(new JsonObject
            {
                ["bookingId"] = b.Id, ["previousSlotId"] = previous, ["newSlotId"] = b.SlotId, ["confirmationCode"] = b.ConfirmationCode, ["status"] = b.Status,
            });
        }).WithName("postAppointmentsByAppointmentIdReschedule").WithSummary("Reschedule an appointment");

        g.MapGet("/{id}/me", (string id, Caller caller, AppointmentEngine engine) =>
        {
            var principal = caller.RequireConsumer();
            var d = engine.Require(caller.RequireOrganization().Id, id);
            return Results.Json(engine.Me(d, principal.ConsumerId));
        }).WithName("getAppointmentsByAppointmentIdMe").WithSummary("Get current consumer booking for this appointment");
    }
}
