using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Fanfare.Emulator.Infrastructure.Scheduling;

namespace Fanfare.Emulator.Webhooks;

/// <summary>
/// Runs one attempt of a delivery when its job falls due: the request is built under the store lock, sent with no lock
/// held (a slow receiver never stalls the API), and its outcome recorded under the lock again.
/// </summary>
public sealed class WebhookDeliveryJob(IServiceProvider services, WebhookSender sender) : IJobHandler
{
    public string Kind => WebhookEngine.JobKind;

    public async Task RunAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        // Resolved lazily: the engine depends on the scheduler, which depends on the job handlers.
        var engine = services.GetRequiredService<WebhookEngine>();
        if (job.Payload?["deliveryId"]?.GetValue<string>() is not { } id || engine.PrepareAttempt(id) is not { } attempt) return;
        var result = await sender.SendAsync(attempt, cancellationToken);
        engine.CompleteAttempt(attempt, result);
    }
}

/// <summary>
/// The HTTP side of a delivery: one POST, 30 s (real time) to answer, no redirects followed, no proxy (receivers are
/// usually on localhost or in the same docker-compose network). Never throws for a receiver's failure.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const int MaxBodyChars = 16 * 1024;

    // Created on the first delivery (issue 15, start-up RSS): an emulator that never delivers a webhook does not load
    // System.Net.Http. (A plain field, not Lazy<HttpClient>, so that constructing the sender names no HttpClient type.)
    private HttpClient? _client;
    private HttpClient _http => _client ?? CreateClient();

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private HttpClient CreateClient()
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false, UseProxy = false, UseCookies = false,
            ConnectTimeout = Timeout, PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        }) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        if (Interlocked.CompareExchange(ref _client, client, null) is { } other) { client.Dispose(); return other; }
        return client;
    }

    public async Task<AttemptResult> SendAsync(PreparedAttempt attempt, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew(); // real duration of the request, independent of the emulator clock
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, attempt.Url);
            req.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(attempt.Body));
            foreach (var (k, v) in attempt.Headers)
            {
                if (k.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) req.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(v);
                else req.Headers.TryAddWithoutValidation(k, v);
            }
            using var res = await _http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await ReadBodyAsync(res, timeout.Token);
            var headers = res.Headers.Concat(res.Content.Headers)
                .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
            return new AttemptResult((int)res.StatusCode, headers, body, watch.Elapsed.TotalMilliseconds, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AttemptResult(null, null, null, watch.Elapsed.TotalMilliseconds, "Connection timeout");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or SocketException or InvalidOperationException or UriFormatException)
        {
            return new AttemptResult(null, null, null, watch.Elapsed.TotalMilliseconds, Describe(ex));
        }
    }

    private static async Task<string> ReadBodyAsync(HttpResponseMessage res, CancellationToken ct)
    {
        using var stream = await res.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var buffer = new char[MaxBodyChars];
        int read = 0, n;
        while (read < buffer.Length && (n = await reader.ReadAsync(buffer.AsMemory(read), ct)) > 0) read += n;
        return new string(buffer, 0, read);
    }

    private static string Describe(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException s)
                return s.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "Connection refused",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "DNS resolution failure",
                    SocketError.TimedOut => "Connection timeout",
                    SocketError.ConnectionReset => "Connection reset",
                    _ => s.Message,
                };
            if (e is System.Security.Authentication.AuthenticationException) return "TLS error: " + e.Message;
        }
        return ex.Message;
    }

    public void Dispose() => _client?.Dispose();
}
