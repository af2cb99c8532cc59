using System.Net.Mail;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Messaging;

/// <summary>
/// Where the emulator "sends" email and SMS: kept in the store for <c>/_emulator/inbox</c> and <c>/_emulator/sms</c>, and
/// each email also relayed over SMTP when <see cref="EmulatorOptions.SmtpHost"/> is set (Mailpit in docker-compose). The
/// relay runs in the background: a slow or absent SMTP server never delays the API call.
/// </summary>
public sealed class MessageOutbox(DocumentStore store, IdGenerator ids, ClockResolver clocks, EmulatorOptions options, ILogger<MessageOutbox> log)
{
    private readonly SemaphoreSlim _arrived = new(0, int.MaxValue);

    public OutboundMessage SendEmail(string organizationId, string to, string from, string subject, string text, string html, string? code)
    {
        var m = Add(new OutboundMessage { OrganizationId = organizationId, Channel = "email", To = to, From = from, Subject = subject, Text = text, Html = html, Code = code });
        if (!string.IsNullOrWhiteSpace(options.SmtpHost)) _ = RelayAsync(m);
        return m;
    }

    public OutboundMessage SendSms(string organizationId, string to, string from, string body, string? code) =>
        Add(new OutboundMessage { OrganizationId = organizationId, Channel = "sms", To = to, From = from, Body = body, Code = code });

    private OutboundMessage Add(OutboundMessage m)
    {
        m.Id = ids.NewPrefixed("msg_");
        m.SentAt = clocks.For(m.OrganizationId).GetUtcNow();
        store.Put(m);
        _arrived.Release();
        return m;
    }

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

    private async Task RelayAsync(OutboundMessage m)
    {
        try
        {
            using var client = new SmtpClient(options.SmtpHost, options.SmtpPort) { EnableSsl = false, DeliveryMethod = SmtpDeliveryMethod.Network };
            using var mail = new MailMessage(new MailAddress(m.From.Contains('<') ? m.From[(m.From.IndexOf('<') + 1)..^1] : m.From, "Fanfare"), new MailAddress(m.To))
            {
                Subject = m.Subject, Body = m.Text, IsBodyHtml = false,
            };
            mail.AlternateViews.Add(AlternateView.CreateAlternateViewFromString(m.Html ?? "", System.Text.Encoding.UTF8, "text/html"));
            mail.Headers.Add("X-Fanfare-Message-Id", m.Id);
            await client.SendMailAsync(mail);
        }
        catch (Exception ex)
        {
            log.LogWarning("SMTP relay of {Id} to {Host}:{Port} failed: {Error}", m.Id, options.SmtpHost, options.SmtpPort, ex.Message);
        }
    }
}
