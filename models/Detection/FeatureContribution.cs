namespace StreamDetect.Models.Detection;

/// <summary>A feature's part in a feature model's score.</summary>
/// <param name="Feature">The <see cref="Features.FeatureSchema"/> name.</param>
/// <param name="Value">The feature's value (as in the schema: log-scaled).</param>
/// <param name="Share">Its share of the score (0..1; shares of all features sum to 1).</param>
public sealed record FeatureContribution(string Feature, double Value, double Share)
{
    /// <summary>What the model's training data says is normal for this feature (in the schema's scale); null when the detector has no such statistics.</summary>
    public FeatureNormal? Normal { get; init; }
}
