// The bare-Kestrel reference for bench/run.sh: the smallest ASP.NET Core minimal API that answers JSON, with the
// template's defaults (WebApplication.CreateSlimBuilder is not used: the emulator is a full WebApplication too).
// Listens on the URL in ASPNETCORE_URLS (the bench picks a free loopback port); GET /json → {"message":"Hello, World!"}.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapGet("/json", () => new Message("Hello, World!"));
app.Run();

/// <summary>The one response body.</summary>
public sealed record Message(string message);
