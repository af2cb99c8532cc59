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
/// <remarks>What only a reader of the journal needs is made when it is first read, not on every request: the id and
/// timestamp strings and the response body's text (kept as the UTF-8 bytes written). The JSON is the same, property for
/// property and in this order.</remarks>
public sealed class JournalEntry
{
    private readonly DateTimeOffset _at;
    private readonly byte[]? _responseBytes;
    private string? _timestamp;
    private string? _responseBody;

    internal JournalEntry(
        long seq, DateTimeOffset at, string api, string method, string path, string target, string? organizationId,
        string? sandboxId, string credential, string? environment, int status, double durationMs, string? faultId,
        string? requestContentType, string? requestBody, bool requestBodyTruncated, string? responseContentType, byte[]? responseBody,
        bool responseBodyTruncated)
    {
        Seq = seq; _at = at; Api = api; Method = method; Path = path; Target = target; OrganizationId = organizationId;
        SandboxId = sandboxId; Credential = credential; Environment = environment; Status = status; DurationMs = durationMs;
        FaultId = faultId; RequestContentType = requestContentType; RequestBody = requestBody; RequestBodyTruncated = requestBodyTruncated;
        ResponseContentType = responseContentType; _responseBytes = responseBody; ResponseBodyTruncated = responseBodyTruncated;
    }

    public long Seq { get; }
    /// <summary><c>req_</c> + the sequence number, six digits at least.</summary>
    public string Id => "req_" + Seq.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    public string Timestamp => _timestamp ??= Json.Iso(_at);
    public string Api { get; }
    public string Method { get; }
    public string Path { get; }
    public string Target { get; }
    public string? OrganizationId { get; }
    public string? SandboxId { get; }
    public string Credential { get; }
    public string? Environment { get; }
    public int Status { get; }
    public double DurationMs { get; }
    public string? FaultId { get; }
    public string? RequestContentType { get; }
    public string? RequestBody { get; }
    public bool RequestBodyTruncated { get; }
    public string? ResponseContentType { get; }
    public string? ResponseBody => _responseBody ??= _responseBytes is null ? null : Encoding.UTF8.GetString(_responseBytes);
    public bool ResponseBodyTruncated { get; }

    /// <summary>The instant on the emulator clock (what <see cref="Timestamp"/> formats).</summary>
    internal DateTimeOffset At => _at;
}

/// <summary><c>GET /_emulator/requests</c>: newest first.</summary>
public sealed record JournalPage(IReadOnlyList<JournalEntry> Requests, int Capacity, long Recorded);

/// <summary>
/// The request journal: a bounded ring buffer in memory (<c>Emulator:RequestJournalSize</c>, default 1000). An entry is
/// built outside the lock (the lock only stores it in its slot), so concurrent requests do not queue behind each other
/// while one of them formats its entry.
/// </summary>
public sealed class RequestJournal(EmulatorOptions options)
{
    private readonly object _sync = new();
    private JournalEntry?[] _ring = [];
    private long _seq;
    /// <summary>Sequence numbers below this were cleared (<see cref="Clear"/>).</summary>
    private long _clearedBefore = 1;

    public int Capacity => Math.Max(0, options.RequestJournalSize);
    public int BodyLimit => Math.Max(0, options.RequestJournalBodyLimit);
    public long Recorded => Interlocked.Read(ref _seq);

    public void Add(Func<long, JournalEntry> make)
    {
        var capacity = Capacity;
        if (capacity == 0) return;
        var seq = Interlocked.Increment(ref _seq);
        var entry = make(seq);
        lock (_sync)
        {
            if (_ring.Length != capacity) _ring = new JournalEntry?[capacity];
            ref var slot = ref _ring[(int)(seq % capacity)];
            if (slot is null || slot.Seq < seq) slot = entry; // a later request that finished first keeps its slot
        }
    }

    /// <summary>Entries newest first (by sequence number) that pass <paramref name="filter"/>, at most <paramref name="limit"/>.</summary>
    public List<JournalEntry> Query(Func<JournalEntry, bool> filter, int limit)
    {
        JournalEntry[] snapshot;
        lock (_sync)
        {
            var newest = Interlocked.Read(ref _seq);
            var list = new List<JournalEntry>(_ring.Length);
            foreach (var e in _ring)
                if (e is not null && e.Seq >= _clearedBefore && e.Seq > newest - _ring.Length) list.Add(e);
            snapshot = list.ToArray();
        }
        Array.Sort(snapshot, (a, b) => b.Seq.CompareTo(a.Seq));
        return snapshot.Where(filter).Take(limit).ToList();
    }

    public void Clear()
    {
        lock (_sync)
        {
            Array.Clear(_ring);
            _clearedBefore = Interlocked.Read(ref _seq) + 1;
        }
    }
}

/// <summary>
/// Records every request to the four emulated APIs (not <c>/_emulator/*</c>, not <c>/health</c>) in the
/// <see cref="RequestJournal"/>: the request body is buffered up to the limit, the response body is teed while it is
/// written, and the entry is added when the response completes (so error bodies written by the error middleware count).
/// </summary>
public sealed class RequestJournalMiddleware(RequestDelegate next, RequestJournal journal, ClockResolver clocks,
    Infrastructure.Store.DocumentStore store)
{
    // Which sandbox an organization belongs to, cached until the store changes (sandboxes are stored documents).
    private readonly Infrastructure.Store.StoreReadCache<string, string?> _sandboxOf = new(store);

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
        // The response body is copied as it is written, at most `limit` bytes into one pooled buffer, through the body feature
        // (no stream adapter, no second buffering of the response).
        // The tee stays in place after this middleware returns: an error body written by the error middleware is journaled too.
        var tee = new TeeBodyFeature(ctx.Features.Get<IHttpResponseBodyFeature>()!, limit);
        ctx.Features.Set<IHttpResponseBodyFeature>(tee);
        ctx.Response.RegisterForDispose(tee);
        var target = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path + ctx.Request.QueryString;
        ctx.Response.OnCompleted(() =>
        {
            var caller = ctx.Items.TryGetValue("fanfare.caller", out var c) ? c as Caller : null;
            var org = caller?.Organization?.Id;
            var now = clocks.For(org).GetUtcNow();
            journal.Add(seq => new JournalEntry(
                seq, now, ApiName(surface), ctx.Request.Method,
                path[prefix.Length..], target, org,
                org is null ? null : _sandboxOf.Get(org, () => ctx.RequestServices.GetService<ISandboxLookup>()?.SandboxOf(org)),
                CredentialOf(ctx, caller), caller?.Organization is null ? null : caller.Environment,
                ctx.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                ctx.Items.TryGetValue(FaultsControlApi.FaultItemKey, out var f) ? f as string : null,
                ctx.Request.ContentType, requestBody, requestTruncated,
                ctx.Response.ContentType, tee.Captured, tee.Truncated));
            return Task.CompletedTask;
        });
        await next(ctx);
    }

    /// <summary><c>admin</c>, <c>consumer</c>, <c>beacon</c> or <c>checkout</c> (no string made per request).</summary>
    private static string ApiName(ApiSurface surface) => surface switch
    {
        ApiSurface.Admin => "admin", ApiSurface.Consumer => "consumer", ApiSurface.Beacon => "beacon", ApiSurface.Checkout => "checkout",
        _ => surface.ToString().ToLowerInvariant(),
    };

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

    /// <summary>The first <c>limit</c> bytes written, in a pooled buffer (returned on dispose, after the entry was made).</summary>
    private sealed class Capture(int limit) : IDisposable
    {
        private byte[]? _buffer;
        private int _length;
        public bool Truncated { get; private set; }
        /// <summary>A copy of the bytes kept (the buffer goes back to the pool), or null when none were written.</summary>
        public byte[]? Captured => _length == 0 ? null : _buffer.AsSpan(0, _length).ToArray();

        public void Keep(ReadOnlySpan<byte> data)
        {
            if (data.IsEmpty) return;
            var room = limit - _length;
            if (data.Length > room) Truncated = true;
            if (room <= 0) return;
            var n = Math.Min(room, data.Length);
            _buffer ??= System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(limit, Math.Max(n, 4096)));
            if (_length + n > _buffer.Length)
            {
                var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(limit, Math.Max(_length + n, _buffer.Length * 2)));
                _buffer.AsSpan(0, _length).CopyTo(bigger);
                System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            data[..n].CopyTo(_buffer.AsSpan(_length));
            _length += n;
        }

        public void Dispose()
        {
            if (_buffer is { } b) { _buffer = null; _length = 0; System.Buffers.ArrayPool<byte>.Shared.Return(b); }
        }
    }

    /// <summary>
    /// The response body feature, teed: what is written through <see cref="Writer"/> (the pipe minimal APIs and JSON results
    /// use) or <see cref="Stream"/> goes to the server's own body feature unchanged, and its first bytes into a
    /// <see cref="Capture"/>.
    /// </summary>
    private sealed class TeeBodyFeature(IHttpResponseBodyFeature inner, int limit) : IHttpResponseBodyFeature, IDisposable
    {
        private readonly Capture _capture = new(limit);
        private TeePipeWriter? _writer;
        private TeeStream? _stream;

        public bool Truncated => _capture.Truncated;
        public byte[]? Captured => _capture.Captured;

        public Stream Stream => _stream ??= new TeeStream(inner.Stream, _capture);
        public System.IO.Pipelines.PipeWriter Writer => _writer ??= new TeePipeWriter(inner.Writer, _capture);
        public void DisableBuffering() => inner.DisableBuffering();
        public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);
        public Task CompleteAsync() => inner.CompleteAsync();

        public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        {
            // Rare on the APIs; copy through the teed stream so the journal sees the bytes.
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, useAsync: true);
            file.Seek(offset, SeekOrigin.Begin);
            await StreamCopyOperation(file, Stream, count, cancellationToken);
        }

        private static async Task StreamCopyOperation(Stream source, Stream destination, long? count, CancellationToken ct)
        {
            var buffer = new byte[64 * 1024];
            var left = count ?? long.MaxValue;
            while (left > 0)
            {
                var n = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct);
                if (n == 0) break;
                await destination.WriteAsync(buffer.AsMemory(0, n), ct);
                left -= n;
            }
        }

        public void Dispose() => _capture.Dispose();
    }

    /// <summary>Forwards to the server's pipe; on <see cref="Advance"/> copies the bytes just committed into the capture.</summary>
    private sealed class TeePipeWriter(System.IO.Pipelines.PipeWriter inner, Capture capture) : System.IO.Pipelines.PipeWriter
    {
        private Memory<byte> _last;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _last = inner.GetMemory(sizeHint);
        public override Span<byte> GetSpan(int sizeHint = 0) => (_last = inner.GetMemory(sizeHint)).Span;

        public override void Advance(int bytes)
        {
            capture.Keep(_last.Span[..bytes]);
            _last = _last[bytes..];
            inner.Advance(bytes);
        }

        public override ValueTask<System.IO.Pipelines.FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
        public override ValueTask<System.IO.Pipelines.FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            capture.Keep(source.Span);
            return inner.WriteAsync(source, cancellationToken);
        }
        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);
        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;
        public override long UnflushedBytes => inner.UnflushedBytes;
    }

    /// <summary>Writes through to the response stream and keeps the first bytes in the capture.</summary>
    private sealed class TeeStream(Stream inner, Capture capture) : Stream
    {
        public override void Write(byte[] buffer, int offset, int count) { capture.Keep(buffer.AsSpan(offset, count)); inner.Write(buffer, offset, count); }
        public override void Write(ReadOnlySpan<byte> buffer) { capture.Keep(buffer); inner.Write(buffer); }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) { capture.Keep(buffer.AsSpan(offset, count)); return inner.WriteAsync(buffer, offset, count, ct); }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) { capture.Keep(buffer.Span); return inner.WriteAsync(buffer, ct); }
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
