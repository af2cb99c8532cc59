using System.Diagnostics;
using System.Text;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Control.Faults;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Organizations;
using Microsoft.AspNetCore.Http.Features;

namespace Fanfare.Emulator.Control.Journal;

/// <summary>
/// One API request as the emulator saw it (<c>GET /_emulator/requests</c>). Never holds a credential: only its kind
/// (<c>publishable</c>, <c>secret</c>, <c>consumer_token</c>, <c>none</c>) and mode. Bodies are truncated at the
/// journal's limit (<see cref="RequestBodyTruncated"/>/<see cref="ResponseBodyTruncated"/> say so). <see cref="Timestamp"/>
/// is the emulator clock (UTC ISO 8601); <see cref="DurationMs"/> real milliseconds.
/// </summary>
public sealed record JournalEntry(
    long Seq, string Id, string Timestamp, string Api, string Method, string Path, string Target, string? OrganizationId,
    string? SandboxId, string Credential, string? Environment, int Status, double DurationMs, string? FaultId,
    string? RequestContentType, string? RequestBody, bool RequestBodyTruncated, string? ResponseContentType, string? ResponseBody,
    bool ResponseBodyTruncated);

/// <summary><c>GET /_emulator/requests</c>: newest first.</summary>
public sealed record JournalPage(IReadOnlyList<JournalEntry> Requests, int Capacity, long Recorded);

/// <summary>The request journal: a bounded ring buffer in memory (<c>Emulator:RequestJournalSize</c>, default 1000).</summary>
public sealed class RequestJournal(EmulatorOptions options)
{
    private readonly object _sync = new();
    private readonly LinkedList<JournalEntry> _entries = new();
    private long _seq;

    public int Capacity => Math.Max(0, options.RequestJournalSize);
    public int BodyLimit => Math.Max(0, options.RequestJournalBodyLimit);
    public long Recorded { get { lock (_sync) return _seq; } }

    public void Add(Func<long, JournalEntry> make)
    {
        if (Capacity == 0) return;
        lock (_sync)
        {
            _entries.AddFirst(make(++_seq));
            while (_entries.Count > Capacity) _entries.RemoveLast();
        }
    }

    public List<JournalEntry> Query(Func<JournalEntry, bool> filter, int limit)
    {
        lock (_sync) return _entries.Where(filter).Take(limit).ToList();
    }

    public void Clear() { lock (_sync) _entries.Clear(); }
}

/// <summary>
/// Records every request to the four emulated APIs (not <c>/_emulator/*</c>, not <c>/health</c>) in the
/// <see cref="RequestJournal"/>: the request body is buffered up to the limit, the response body is teed while it is
/// written, and the entry is added when the response completes (so error bodies written by the error middleware count).
/// </summary>
public sealed class RequestJournalMiddleware(RequestDelegate next, RequestJournal journal, ClockResolver clocks)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        if (journal.Capacity == 0 || ctx.Surface() is not { } surface) { await next(ctx); return; }
        var prefix = ApiSurfaceMiddleware.Prefix(surface);
        var path = ctx.Request.Path.Value ?? "";
        if (!path.StartsWith(prefix, StringComparison.Ordinal)) { await next(ctx); return; }

        // Real elapsed time of this request (durationMs), not an instant: the entry's timestamp below reads the emulator clock.
        var started = Stopwatch.GetTimestamp();
        var limit = journal.BodyLimit;
        string? requestBody = null; var requestTruncated = false;
        if (limit > 0 && (ctx.Request.ContentLength is > 0 || ctx.Request.Headers.TransferEncoding.Count > 0))
        {
            ctx.Request.EnableBuffering();
            var buffer = new byte[limit + 1];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await ctx.Request.Body.ReadAsync(buffer.AsMemory(read), ctx.RequestAborted);
                if (n == 0) break;
                read += n;
            }
            requestTruncated = read > limit;
            requestBody = Encoding.UTF8.GetString(buffer, 0, Math.Min(read, limit));
            ctx.Request.Body.Position = 0;
        }
        var tee = new TeeStream(ctx.Response.Body, limit);
        ctx.Response.Body = tee;
        var target = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path + ctx.Request.QueryString;
        ctx.Response.OnCompleted(() =>
        {
            var caller = ctx.Items.TryGetValue("fanfare.caller", out var c) ? c as Caller : null;
            var org = caller?.Organization?.Id;
            var now = clocks.For(org).GetUtcNow();
            journal.Add(seq => new JournalEntry(
                seq, "req_" + seq.ToString("D6"), Json.Iso(now), surface.ToString().ToLowerInvariant(), ctx.Request.Method,
                path[prefix.Length..], target, org,
                org is null ? null : ctx.RequestServices.GetService<ISandboxLookup>()?.SandboxOf(org),
                CredentialOf(ctx, caller), caller?.Organization is null ? null : caller.Environment,
                ctx.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                ctx.Items.TryGetValue(FaultsControlApi.FaultItemKey, out var f) ? f as string : null,
                ctx.Request.ContentType, requestBody, requestTruncated,
                ctx.Response.ContentType, tee.Captured, tee.Truncated));
            return Task.CompletedTask;
        });
        await next(ctx);
    }

    /// <summary>The kind of credential the request carried, never the value.</summary>
    private static string CredentialOf(HttpContext ctx, Caller? caller)
    {
        if (caller is { Consumer: not null }) return "consumer_token";
        if (caller is { Kind: CredentialKind.Secret }) return "secret";
        if (caller is { Kind: CredentialKind.Publishable }) return "publishable";
        var h = ctx.Request.Headers;
        var auth = h.Authorization.ToString();
        if (h.ContainsKey("X-Secret-Key") || auth.Contains("sk_", StringComparison.Ordinal)) return "secret";
        if (h.ContainsKey("X-Publishable-Key") || ctx.Request.Query.ContainsKey("api_key")) return "publishable";
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return "consumer_token";
        return "none";
    }

    /// <summary>Writes through to the response and keeps the first <c>limit</c> bytes.</summary>
    private sealed class TeeStream(Stream inner, int limit) : Stream
    {
        private readonly MemoryStream _copy = new();
        public bool Truncated { get; private set; }
        public string? Captured => _copy.Length == 0 ? null : Encoding.UTF8.GetString(_copy.GetBuffer(), 0, (int)_copy.Length);

        private void Keep(ReadOnlySpan<byte> data)
        {
            var room = limit - (int)_copy.Length;
            if (data.Length > room) Truncated = true;
            if (room > 0) _copy.Write(data[..Math.Min(room, data.Length)]);
        }

        public override void Write(byte[] buffer, int offset, int count) { Keep(buffer.AsSpan(offset, count)); inner.Write(buffer, offset, count); }
        public override void Write(ReadOnlySpan<byte> buffer) { Keep(buffer); inner.Write(buffer); }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) { Keep(buffer.AsSpan(offset, count)); return inner.WriteAsync(buffer, offset, count, ct); }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) { Keep(buffer.Span); return inner.WriteAsync(buffer, ct); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
