using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;

namespace StreamDetect.Models.Dataset;

/// <summary>
/// One user as of one of its entries (an event or a session end marker), exactly as the streaming engine would see it: the window and
/// feature vector built by <see cref="UserBehaviorState"/>. Carries no label.
/// </summary>
/// <param name="UserId">The user.</param>
/// <param name="EventIndex">Index of the newest entry in the user's history (0 = first event; end markers count).</param>
/// <param name="Window">The window after the entry, oldest first (a copy).</param>
/// <param name="Features">The feature vector after the entry.</param>
/// <param name="EventCount">Entries (events and end markers) the user had so far (EventIndex + 1):
/// <see cref="UserBehaviorState.EntryCount"/>.</param>
/// <param name="TimestampMs">The entry's time (a marker's: its session's last event).</param>
public sealed record BehaviorSample(string UserId, int EventIndex, WindowEntry[] Window, float[] Features, long EventCount, long TimestampMs)
{
    /// <summary>Whether the newest entry is a session end marker.</summary>
    public bool IsEndMarker => Window.Length > 0 && Sessions.SessionRule.IsEndMarker(Window[^1]);

    /// <summary>The sample in the streaming shape, its newest entry unscored (several new events at once:
    /// <see cref="UserReplay.AdvanceAsInput"/>).</summary>
    public ScoringInput ToScoringInput(ModelStateSlot? state) =>
        new(UserId, Window, 1, Features, state, EventCount);
}
