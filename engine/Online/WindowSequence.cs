using StreamDetect.Models.Dataset;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;

namespace StreamDetect.Engine.Online;

/// <summary>
/// A scoring request's window as a <see cref="UserSequence"/> the fine-tuner and the gates replay: one event per window
/// event (type, time, amount; the hashed item and category become stand-in ids that keep distinct ones distinct), the
/// session end markers placed again by the run's session rule (the <c>session</c> field is not in the window, so a
/// session that only a change of that field closed is not closed here).
/// </summary>
public static class WindowSequence
{
    public static UserSequence Of(string userId, IReadOnlyList<WindowEntry> window, SessionSettings sessions, int windowCapacity)
    {
        var events = new List<UserEvent>(window.Count);
        foreach (var entry in window)
        {
            if (entry.Type == EventTypes.SessionEnd) continue;
            events.Add(new UserEvent(userId, entry.TimestampMs, entry.Type)
            {
                Amount = entry.HasAmount ? entry.Amount : null,
                Item = entry.ItemHash == 0 ? null : "h" + entry.ItemHash.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Category = entry.CategoryHash == 0 ? null : "h" + entry.CategoryHash.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        if (events.Count == 0) throw new ArgumentException($"the window of user '{userId}' holds no event", nameof(window));
        return DatasetBuilder.Build(events, windowCapacity, sessions).Users[0];
    }
}
