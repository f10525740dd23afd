using StreamDetect.Models.Detection;

namespace StreamDetect.Stages.Scoring;

/// <summary>One micro-batch after the forward pass: each request with its output, same order.</summary>
/// <param name="Model">The detector's state key ("name@version") that scored the batch.</param>
/// <param name="ScoringTime">Time of the forward pass alone.</param>
public sealed record ScoredBatch(IReadOnlyList<ScoringRequest> Requests, IReadOnlyList<ScoringOutput> Outputs, string Model, TimeSpan ScoringTime)
{
    /// <summary>The shadow detector that scored the same requests (name@version), or null when the plan has none (issue 11).</summary>
    public string? ShadowModel { get; init; }

    /// <summary>The shadow's output for each request (same order), or null when no shadow scored the batch.</summary>
    public IReadOnlyList<ScoringOutput>? ShadowOutputs { get; init; }
}
