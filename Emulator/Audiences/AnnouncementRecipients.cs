using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Messaging.Announcements;

namespace Fanfare.Emulator.Audiences;

/// <summary>
/// Who an announcement that names an audience goes to: the audience's members as evaluated now (rule audiences against
/// live consumer attributes, static and synced lists by membership). An unknown or deleted audience has no members.
/// </summary>
public sealed class AnnouncementRecipients(AudienceEngine audiences) : IAudienceMembers
{
    public IReadOnlyList<string> ConsumerIds(string organizationId, string audienceId)
    {
        try { return audiences.Members(audiences.Require(organizationId, audienceId)).Select(c => c.Id).ToList(); }
        catch (ApiException) { return []; }
    }
}
