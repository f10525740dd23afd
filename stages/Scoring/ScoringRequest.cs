using StreamDetect.Models.Features;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// What a user entity hands to the scorer after new events: the user's recent events (oldest first,
/// the new events last), the feature vector as of the newest event, and the model state it keeps
/// for the user. <see cref="Window"/> is the whole window when the model state is missing or behind
/// (so a recurrent model can rebuild it), and only the new events and the one before them when the
/// state is current.
/// </summary>
/// <param name="UserId">The user.</param>
/// <param name="Partition">The user's partition (the entity to return new model state to).</param>
/// <param name="Window">The user's events, oldest first: the whole window, or the new ones and their predecessor (see above); the newest <paramref name="NewEvents"/> are unscored.</param>
/// <param name="NewEvents">How many of the newest window entries arrived in this batch (at least 1).</param>
/// <param name="Features">The feature vector (<see cref="FeatureSchema"/>) as of the newest event.</param>
/// <param name="State">The model state the entity holds for the user, or null.</param>
/// <param name="EventCount">The user's total events, including the new ones.</param>
/// <param name="FirstEventMs">Time of the user's first event (epoch ms), e.g. to tell new from established users.</param>
public sealed record ScoringRequest(
    string UserId,
    int Partition,
    WindowEntry[] Window,
    int NewEvents,
    float[] Features,
    ModelStateSlot? State,
    long EventCount,
    long FirstEventMs)
{
    /// <summary>Ground-truth label of the new events (max), for evaluation only; never a model input.</summary>
    public int? Label { get; init; }

    /// <summary>Earliest <c>IngestedEvent.ReceivedTicks</c> among the new events (for latency).</summary>
    public long ReceivedTicks { get; init; }

    /// <summary>Time of the newest event (epoch ms).</summary>
    public long LastEventMs => Window.Length == 0 ? 0 : Window[^1].TimestampMs;
}
