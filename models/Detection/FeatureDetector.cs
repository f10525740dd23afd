using StreamDetect.Models.Features;
using StreamDetect.Models.Scaling;
using TorchSharp;

namespace StreamDetect.Models.Detection;

/// <summary>
/// Base of the detectors that judge the feature vector alone (autoencoder, GAN critic, kNN, z-score,
/// isolation forest): stateless, robustly scaled inputs, explanations as per-feature shares.
/// </summary>
public abstract class FeatureDetector : AnomalyDetector
{
    protected FeatureDetector(string name, torch.Device device, FeatureScaler scaler, float clip, int explainTop)
        : base(name, device)
    {
        Scaler = scaler;
        Clip = clip;
        ExplainTop = explainTop;
    }

    public FeatureScaler Scaler { get; }

    /// <summary>Scaled features are clipped to ±Clip.</summary>
    public float Clip { get; }

    public int ExplainTop { get; }

    protected sealed override ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch)
    {
        int n = batch.Count, f = FeatureSchema.Count;
        var scaled = Scaler.Transform(batch, Clip);
        var contributions = new float[n * f];
        var raw = ScoreScaled(scaled, n, contributions);
        var outputs = new ScoringOutput[n];
        for (int r = 0; r < n; r++)
        {
            var explanation = Explanation.ForFeatures(Name, raw[r], TopContributions(batch[r].Features, contributions.AsSpan(r * f, f), ExplainTop));
            outputs[r] = Output(raw[r], null, explanation);
        }
        return outputs;
    }

    /// <summary>
    /// Raw scores of <paramref name="count"/> scaled rows (row-major); writes each feature's non-negative
    /// contribution per row into <paramref name="contributions"/>.
    /// </summary>
    protected abstract double[] ScoreScaled(float[] scaled, int count, float[] contributions);

    /// <summary>The largest contributions as shares of the row's total, largest first.</summary>
    internal static IReadOnlyList<FeatureContribution> TopContributions(float[] features, ReadOnlySpan<float> contributions, int top)
    {
        double total = 0;
        foreach (float c in contributions) total += Math.Max(0, c);
        if (!(total > 0) || top <= 0) return [];
        Span<int> best = stackalloc int[top];
        int count = 0;
        for (int j = 0; j < contributions.Length; j++)
        {
            if (!(contributions[j] > 0)) continue;
            int at = count < top ? count++ : top;
            if (at == top)
            {
                if (contributions[j] <= contributions[best[top - 1]]) continue;
                at = top - 1;
            }
            while (at > 0 && contributions[best[at - 1]] < contributions[j])
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = j;
        }
        var result = new FeatureContribution[count];
        for (int k = 0; k < count; k++)
            result[k] = new FeatureContribution(FeatureSchema.Names[best[k]], features[best[k]], contributions[best[k]] / total);
        return result;
    }
}
