using System.Text;
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

    /// <summary>The message as RFC 5322 text (multipart/alternative, text and HTML, quoted-printable-free UTF-8 base64).</summary>
    public string ToRfc822()
    {
        var boundary = "=_fanfare_" + Id;
        var sb = new StringBuilder();
        void H(string name, string value) => sb.Append(name).Append(": ").Append(value).Append("\r\n");
        H("From", From);
        H("To", To);
        H("Subject", EncodeHeader(Subject ?? ""));
        H("Date", SentAt.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", System.Globalization.CultureInfo.InvariantCulture));
        H("Message-ID", $"<{Id}@emulator.fanfare.local>");
        H("MIME-Version", "1.0");
        H("X-Fanfare-Organization-Id", OrganizationId);
        H("Content-Type", $"multipart/alternative; boundary=\"{boundary}\"");
        sb.Append("\r\n");
        foreach (var (type, content) in new[] { ("text/plain", Text ?? ""), ("text/html", Html ?? "") })
        {
            sb.Append("--").Append(boundary).Append("\r\n");
            H("Content-Type", type + "; charset=utf-8");
            H("Content-Transfer-Encoding", "base64");
            sb.Append("\r\n");
            var b64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(content));
            for (int i = 0; i < b64.Length; i += 76) sb.Append(b64, i, Math.Min(76, b64.Length - i)).Append("\r\n");
        }
        sb.Append("--").Append(boundary).Append("--\r\n");
        return sb.ToString();
    }

    private static string EncodeHeader(string s) =>
        s.All(c => c < 128) ? s : "=?utf-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(s)) + "?=";

    /// <summary>The control-plane shape of an email: <c>{id,organizationId,to,from,subject,text,html,code,sentAt}</c>.</summary>
    public object EmailView() => new { id = Id, organizationId = OrganizationId, to = To, from = From, subject = Subject, text = Text, html = Html, code = Code, sentAt = Json.Iso(SentAt) };

    /// <summary>The control-plane shape of an SMS: <c>{id,organizationId,to,from,body,code,sentAt}</c>.</summary>
    public object SmsView() => new { id = Id, organizationId = OrganizationId, to = To, from = From, body = Body, code = Code, sentAt = Json.Iso(SentAt) };
}
