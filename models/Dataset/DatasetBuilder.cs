using StreamDetect.Models.Events;

namespace StreamDetect.Models.Dataset;

/// <summary>
/// Groups a time-ordered event stream per user (each user's events sorted by time, stable for equal
/// times) for replay through <see cref="Features.UserBehaviorState"/>.
/// </summary>
public static class DatasetBuilder
{
    /// <param name="events">The events (file order); the same time order as the stream is expected but not required.</param>
    /// <param name="windowCapacity">Window capacity of the user state, as in the streaming engine.</param>
    public static BehaviorDataset Build(IEnumerable<UserEvent> events, int windowCapacity = 32)
    {
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
            users[i] = new UserSequence(order[i], sorted);
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
