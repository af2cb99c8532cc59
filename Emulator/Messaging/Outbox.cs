using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Messaging;

/// <summary>
/// Where the emulator "sends" email and SMS: kept in the store for <c>/_emulator/inbox</c> and <c>/_emulator/sms</c>.
/// Every email is a MimeKit <see cref="MimeMessage"/> (display name kept and quoted, RFC 2047 headers,
/// <c>multipart/alternative</c> text + HTML); its RFC 5322 text is what <c>/_emulator/inbox/{id}/raw</c> serves. When
/// <see cref="EmulatorOptions.SmtpHost"/> is set (Mailpit in docker-compose) each email is also relayed with MailKit's
/// <see cref="SmtpClient"/> (STARTTLS when offered, optional user/password, a timeout), in the background: a slow or
/// absent SMTP server never delays or fails the API call; the outcome is on the message (<c>relay</c>).
/// </summary>
public sealed class MessageOutbox(DocumentStore store, IdGenerator ids, ClockResolver clocks, EmulatorOptions options, ILogger<MessageOutbox> log)
{
    private readonly SemaphoreSlim _arrived = new(0, int.MaxValue);

    /// <summary>
    /// Sends an email. <paramref name="from"/> is an address or <c>Display Name &lt;address&gt;</c> (the name may hold
    /// commas and non-ASCII: it is quoted and encoded as needed). <paramref name="html"/> null = text only.
    /// </summary>
    public OutboundMessage SendEmail(string organizationId, string to, string from, string subject, string text, string? html, string? code)
    {
        var sender = Mailbox(from);
        var relayOn = !string.IsNullOrWhiteSpace(options.SmtpHost);
        var m = new OutboundMessage
        {
            OrganizationId = organizationId, Channel = "email", To = to, From = Display(sender), Subject = subject, Text = text, Html = html, Code = code,
            Relay = new MessageRelay { Status = relayOn ? MessageRelay.Pending : MessageRelay.Disabled },
        };
        MimeMessage? mime = null;
        Add(m, () =>
        {
            mime = Build(m, sender);
            m.Raw = Write(mime);
        });
        if (relayOn) _ = Task.Run(() => RelayAsync(m, mime!));
        return m;
    }

    public OutboundMessage SendSms(string organizationId, string to, string from, string body, string? code) =>
        Add(new OutboundMessage { OrganizationId = organizationId, Channel = "sms", To = to, From = from, Body = body, Code = code }, null);

    private OutboundMessage Add(OutboundMessage m, Action? beforeStore)
    {
        store.Transaction(() =>
        {
            m.Id = ids.NewPrefixed("msg_");
            m.SentAt = clocks.For(m.OrganizationId).GetUtcNow();
            beforeStore?.Invoke();
            store.Put(m);
        });
        _arrived.Release();
        return m;
    }

    /// <summary><c>Name &lt;addr&gt;</c> or a bare address; the name is taken verbatim (no RFC 5322 parsing of commas).</summary>
    private static MailboxAddress Mailbox(string from)
    {
        var lt = from.LastIndexOf('<');
        if (lt >= 0 && from.EndsWith('>'))
            return new MailboxAddress(from[..lt].Trim().Trim('"'), from[(lt + 1)..^1].Trim());
        return new MailboxAddress("", from.Trim());
    }

    /// <summary><c>Name &lt;addr&gt;</c> as the From header shows it once decoded: the name quoted when it holds RFC 5322 specials.</summary>
    private static string Display(MailboxAddress a)
    {
        if (string.IsNullOrEmpty(a.Name)) return a.Address;
        var name = a.Name.IndexOfAny(['(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '.', '"']) >= 0
            ? "\"" + a.Name.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""
            : a.Name;
        return $"{name} <{a.Address}>";
    }

    /// <summary>The email as a MimeMessage: deterministic (Message-ID, Date and boundary come from the message).</summary>
    internal static MimeMessage Build(OutboundMessage m, MailboxAddress sender)
    {
        var message = new MimeMessage();
        message.From.Add(sender);
        message.To.Add(new MailboxAddress("", m.To));
        message.Subject = m.Subject ?? "";
        message.Date = m.SentAt;
        message.MessageId = $"{m.Id}@emulator.fanfare.local";
        message.Headers.Add("X-Fanfare-Organization-Id", m.OrganizationId);
        message.Headers.Add("X-Fanfare-Message-Id", m.Id);
        var text = new TextPart("plain") { Text = m.Text ?? "", ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        if (m.Html is null) message.Body = text;
        else
        {
            var html = new TextPart("html") { Text = m.Html, ContentTransferEncoding = ContentEncoding.QuotedPrintable };
            message.Body = new MultipartAlternative { text, html };
            ((Multipart)message.Body).Boundary = m.Id; // short: the Content-Type header stays on one line
        }
        return message;
    }

    private static readonly FormatOptions Rfc5322 = CreateFormat();

    private static FormatOptions CreateFormat()
    {
        var f = FormatOptions.Default.Clone();
        f.NewLineFormat = NewLineFormat.Dos; // CRLF on every platform
        return f;
    }

    private static string Write(MimeMessage message)
    {
        using var ms = new MemoryStream();
        message.WriteTo(Rfc5322, ms);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The RFC 5322 text of an email (what <c>/raw</c> serves).</summary>
    public static string RawOf(OutboundMessage m) => m.Raw ?? Write(Build(m, Mailbox(m.From)));

    /// <summary>Messages of a channel, newest first, optionally to one recipient (case-insensitive).</summary>
    public List<OutboundMessage> List(string channel, string? to) =>
        store.Where<OutboundMessage>(m => m.Channel == channel && (to is null || string.Equals(m.To, to, StringComparison.OrdinalIgnoreCase)))
            .AsEnumerable().Reverse().ToList();

    /// <summary>The newest message, waiting up to <paramref name="wait"/> (real time) for one to arrive.</summary>
    public async Task<OutboundMessage?> LatestAsync(string channel, string? to, TimeSpan wait, CancellationToken ct)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew(); // a real-time wait, independent of the emulator clock
        while (true)
        {
            var first = List(channel, to).FirstOrDefault();
            if (first is not null) return first;
            var left = wait - waited.Elapsed;
            if (left <= TimeSpan.Zero) return null;
            try { await _arrived.WaitAsync(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100), ct); }
            catch (OperationCanceledException) { return null; }
        }
    }

    public int Clear(string channel, string? to)
    {
        return store.Transaction(() =>
        {
            var doomed = List(channel, to);
            foreach (var m in doomed) store.Delete<OutboundMessage>(m.Id);
            return doomed.Count;
        });
    }

    private async Task RelayAsync(OutboundMessage m, MimeMessage message)
    {
        string status = MessageRelay.Sent;
        string? error = null;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(1, options.SmtpTimeoutSeconds) * 3));
            using var client = new SmtpClient { Timeout = Math.Max(1, options.SmtpTimeoutSeconds) * 1000 };
            // The relay target is a local mail catcher (Mailpit, MailHog …) whose certificate is usually self-signed.
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            await client.ConnectAsync(options.SmtpHost, options.SmtpPort, SecureSocketOptions.StartTlsWhenAvailable, timeout.Token);
            if (!string.IsNullOrEmpty(options.SmtpUser))
                await client.AuthenticateAsync(options.SmtpUser, options.SmtpPassword ?? "", timeout.Token);
            await client.SendAsync(message, timeout.Token);
            await client.DisconnectAsync(true, timeout.Token);
        }
        catch (Exception ex)
        {
            status = MessageRelay.Failed;
            error = ex is OperationCanceledException ? $"timed out after {options.SmtpTimeoutSeconds} s" : ex.Message;
            log.LogWarning("SMTP relay of {Id} to {Host}:{Port} failed: {Error}", m.Id, options.SmtpHost, options.SmtpPort, error);
        }
        try
        {
            store.Transaction(() =>
            {
                if (store.Get<OutboundMessage>(m.Id) is not { } current) return; // deleted (inbox cleared, reset) meanwhile
                current.Relay = new MessageRelay { Status = status, Error = error };
                store.Put(current);
            });
        }
        catch (Exception ex)
        {
            log.LogWarning("Could not record the relay outcome of {Id}: {Error}", m.Id, ex.Message);
        }
    }
}
