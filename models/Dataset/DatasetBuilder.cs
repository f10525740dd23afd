using StreamDetect.Models.Events;
using StreamDetect.Models.Sessions;

namespace StreamDetect.Models.Dataset;

/// <summary>
/// Groups a time-ordered event stream per user (each user's events sorted by time, stable for equal
/// times) for replay through <see cref="Features.UserBehaviorState"/>. With a session rule, each user's entries hold the
/// end markers of its sessions where the rule closes them and after its last event (the end of the input), as the
/// stream puts them.
/// </summary>
public static class DatasetBuilder
{
    /// <param name="events">The events (file order); the same time order as the stream is expected but not required.</param>
    /// <param name="windowCapacity">Window capacity of the user state, as in the streaming engine.</param>
    /// <param name="sessions">Where sessions end (HOCON <c>streamdetect.sessions</c>); null: no end markers.</param>
    public static BehaviorDataset Build(IEnumerable<UserEvent> events, int windowCapacity = 32, SessionSettings? sessions = null)
    {
        var rule = sessions is null ? null : new SessionRule(sessions);
        var byUser = new Dictionary<string, List<UserEvent>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var e in events)
        {
            if (!byUser.TryGetValue(e.UserId, out var list))
            {
                list = [];
                byUser[e.UserId] = list;
                order.Add(e.UserId);
            }
            list.Add(e);
        }
        var users = new UserSequence[order.Count];
        for (int i = 0; i < order.Count; i++)
        {
            var list = byUser[order[i]];
            var sorted = IsSorted(list) ? list.ToArray() : list.OrderBy(e => e.TimestampMs).ToArray();
            users[i] = new UserSequence(order[i], sorted, rule);
        }
        return new BehaviorDataset(users, windowCapacity);
    }

    private static bool IsSorted(List<UserEvent> events)
    {
        for (int i = 1; i < events.Count; i++)
            if (events[i].TimestampMs < events[i - 1].TimestampMs) return false;
        return true;
    }
}
