using MimeKit;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Messaging;

/// <summary>An email or SMS the real service would have sent (OTP codes, later notifications).</summary>
[SharedAcrossModes]
public sealed class OutboundMessage : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    /// <summary><c>email</c> or <c>sms</c>.</summary>
    public string Channel { get; set; } = "email";
    public string To { get; set; } = "";
    public string From { get; set; } = "";
    public string? Subject { get; set; }
    public string? Text { get; set; }
    public string? Html { get; set; }
    /// <summary>SMS text.</summary>
    public string? Body { get; set; }
    /// <summary>The one-time code in the message, when there is one.</summary>
    public string? Code { get; set; }
    public DateTimeOffset SentAt { get; set; }

    /// <summary>The email exactly as sent: the RFC 5322 text MimeKit wrote (<see cref="MimeMessage.WriteTo(FormatOptions, Stream, CancellationToken)"/>).</summary>
    public string? Raw { get; set; }

    /// <summary>What became of the SMTP relay of an email; null for SMS.</summary>
    public MessageRelay? Relay { get; set; }

    /// <summary>The control-plane shape of an email: <c>{id,organizationId,to,from,subject,text,html,code,sentAt,relay:{status,error}}</c>.</summary>
    public object EmailView() => new
    {
        id = Id, organizationId = OrganizationId, to = To, from = From, subject = Subject, text = Text, html = Html, code = Code, sentAt = Json.Iso(SentAt),
        relay = new { status = Relay?.Status ?? MessageRelay.Disabled, error = Relay?.Error },
    };

    /// <summary>The control-plane shape of an SMS: <c>{id,organizationId,to,from,body,code,sentAt}</c>.</summary>
    public object SmsView() => new { id = Id, organizationId = OrganizationId, to = To, from = From, body = Body, code = Code, sentAt = Json.Iso(SentAt) };
}

/// <summary>
/// The SMTP relay of one email: <c>status</c> is <c>disabled</c> (no <c>SmtpHost</c>), <c>pending</c> (being sent),
/// <c>sent</c> or <c>failed</c> (with <c>error</c>, the relay's message). A failed relay never fails the API call.
/// </summary>
public sealed class MessageRelay
{
    public const string Disabled = "disabled", Pending = "pending", Sent = "sent", Failed = "failed";
    public string Status { get; set; } = Disabled;
    public string? Error { get; set; }
}
