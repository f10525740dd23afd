using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;

namespace StreamDetect.Models.Dataset;

/// <summary>
/// One user as of one of its events, exactly as the streaming engine would see it: the window and
/// feature vector built by <see cref="UserBehaviorState"/>. Carries no label.
/// </summary>
/// <param name="UserId">The user.</param>
/// <param name="EventIndex">Index of the newest event in the user's history (0 = first event).</param>
/// <param name="Window">The window after the event, oldest first (a copy).</param>
/// <param name="Features">The feature vector after the event.</param>
/// <param name="EventCount">Events the user had so far (EventIndex + 1).</param>
/// <param name="TimestampMs">The event's time.</param>
public sealed record BehaviorSample(string UserId, int EventIndex, WindowEntry[] Window, float[] Features, long EventCount, long TimestampMs)
{
    /// <summary>The sample in the streaming shape, its newest entry unscored (several new events at once:
    /// <see cref="UserReplay.AdvanceAsInput"/>).</summary>
    public ScoringInput ToScoringInput(ModelStateSlot? state) =>
        new(UserId, Window, 1, Features, state, EventCount);
}
