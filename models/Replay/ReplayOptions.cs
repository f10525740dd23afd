namespace StreamDetect.Models.Replay;

/// <summary>How <see cref="StreamingReplay"/> runs.</summary>
/// <param name="BatchSize">Users per scoring batch (the micro-batch size of the stream).</param>
/// <param name="ScoreFromMs">Events before this time only build the users' state (warm-up); later ones are scored.</param>
public sealed record ReplayOptions(int BatchSize = 1024, long ScoreFromMs = long.MinValue);
