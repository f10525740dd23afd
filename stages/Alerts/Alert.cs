using StreamDetect.Models.Detection;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// An alert for the security team: who, when, how anomalous, against which threshold, by which model,
/// and why (the least expected events with what the model expected instead, feature deviations, and a
/// summary of the user's recent window).
/// </summary>
public sealed record Alert(
    string AlertId,
    string UserId,
    long WindowEndMs,
    double Score,
    double Threshold,
    string Model,
    string Segment,
    Explanation Explanation,
    AlertWindow Window)
{
    /// <summary>The alerting event's device and IP address and what the user's features say about them; null: not known.</summary>
    public AlertContext? Context { get; init; }

    /// <summary>The scenario family a simple rule tells from the window (<see cref="ScenarioRules"/>); null when none does.</summary>
    public ScenarioGuess? Scenario { get; init; }

    /// <summary>Whether the alerting entry is a session's end marker (the session was scored as it closed; README "Sessions in the stream").</summary>
    public bool SessionEnd { get; init; }

    /// <summary>When the engine accepted the newest event (Stopwatch ticks): for ingest-to-alert latency; not part of the alert's JSON.</summary>
    public long ReceivedTicks { get; init; }
}
