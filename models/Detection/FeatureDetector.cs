using System.Buffers;
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
        // Pooled: a batch of 1024 rows is ~440 KB per buffer, which would land on the large object heap every call.
        var scaled = ArrayPool<float>.Shared.Rent(n * f);
        var contributions = ArrayPool<float>.Shared.Rent(n * f);
        try
        {
            for (int r = 0; r < n; r++) Scaler.Transform(batch[r].Features, scaled.AsSpan(r * f, f), Clip);
            Array.Clear(contributions, 0, n * f);
            var raw = ScoreScaled(scaled, n, contributions);
            var outputs = new ScoringOutput[n];
            for (int r = 0; r < n; r++)
            {
                double score = Calibration.Map(raw[r]);
                var features = score >= ExplainFrom ? TopContributions(batch[r].Features, contributions.AsSpan(r * f, f), ExplainTop) : [];
                outputs[r] = new ScoringOutput(score, null, Explanation.ForFeatures(Name, raw[r], features));
            }
            return outputs;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scaled);
            ArrayPool<float>.Shared.Return(contributions);
        }
    }

    /// <summary>
    /// Raw scores of the first <paramref name="count"/> scaled rows (row-major; the arrays may be longer);
    /// writes each feature's non-negative contribution per row into <paramref name="contributions"/> (zeroed).
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
