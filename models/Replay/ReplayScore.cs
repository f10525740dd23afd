using StreamDetect.Models.Detection;

namespace StreamDetect.Models.Replay;

/// <summary>The detector's output for one event of a replay.</summary>
public readonly record struct ReplayScore(int UserIndex, int EventIndex, long TimestampMs, ScoringOutput Output);
