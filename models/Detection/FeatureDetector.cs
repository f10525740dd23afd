using System.Buffers;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Scaling;
using StreamDetect.Models.Tensors;
using TorchSharp;

namespace StreamDetect.Models.Detection;

/// <summary>
/// Base of the detectors that judge the feature vector alone (autoencoder, GAN critic, kNN, z-score,
/// isolation forest): stateless, robustly scaled inputs, explanations as per-feature shares. Every new
/// event's feature row (<see cref="ScoringInput.FeaturesAt"/>) is scored on its own, all rows of a batch
/// in one pass.
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
        // Every new event's feature row is scored: one pass over all rows of all inputs.
        var offsets = ScoringOutputBuffer.RowOffsets(batch);
        int rows = offsets[n];
        // Scored as a multiple of BatchRows.Multiple rows (zero rows after the real ones), so that a row's bits do not
        // depend on how many rows came with it.
        int padded = BatchRows.Padded(rows);
        // Reused: a batch of 1024 rows is ~440 KB per buffer, which would land on the large object heap every call.
        // Neither is cleared: every row of scaled is written, and contributions holds only what ScoreScaled writes.
        var scaled = TakeBuffer(ref _spareScaled, padded * f);
        var contributions = TakeBuffer(ref _spareContributions, padded * f);
        try
        {
            for (int i = 0; i < n; i++)
                for (int e = 0; e < batch[i].NewEvents; e++)
                    Scaler.Transform(batch[i].FeaturesAt(e), scaled.AsSpan((offsets[i] + e) * f, f), Clip);
            scaled.AsSpan(rows * f, (padded - rows) * f).Clear();
            var raw = ScoreScaled(scaled, padded, contributions);
            var buffer = new ScoringOutputBuffer(Name, rows);
            Span<float> scratch = stackalloc float[f];
            for (int i = 0; i < n; i++)
            {
                for (int e = 0; e < batch[i].NewEvents; e++)
                {
                    int row = offsets[i] + e;
                    double score = Calibration.Map(raw[row]);
                    buffer.Set(row, raw[row], score);
                    if (score < ExplainFrom) continue;
                    // Contributions only for the rows explained (a few percent of normal traffic at the default ExplainFrom).
                    var shares = Contributions(scaled.AsSpan(row * f, f), contributions.AsSpan(row * f, f), scratch);
                    buffer.Explain(row, Explanation.ForFeatures(Name, raw[row], TopContributions(batch[i].FeaturesAt(e), shares, ExplainTop, Scaler)));
                }
            }
            var outputs = new ScoringOutput[n];
            for (int i = 0; i < n; i++) outputs[i] = buffer.Output(offsets[i], batch[i].NewEvents, null);
            return outputs;
        }
        finally
        {
            KeepBuffer(ref _spareScaled, scaled);
            KeepBuffer(ref _spareContributions, contributions);
        }
    }

    // The last batch's buffers, kept for the next one. The shared pool alone re-allocated them again and again: a stream's
    // batches are a few MB per buffer, their size crosses the pool's power-of-two buckets from batch to batch, and the
    // members of an ensemble return them on other threads (measured with `bench`: ~160 bytes allocated per event end to
    // end). A detector scores one batch at a time in the stream; a second caller meanwhile finds no spare and rents.
    private float[]? _spareScaled, _spareContributions;

    private static float[] TakeBuffer(ref float[]? spare, int length)
    {
        var buffer = Interlocked.Exchange(ref spare, null);
        if (buffer is not null && buffer.Length >= length) return buffer;
        if (buffer is not null) ArrayPool<float>.Shared.Return(buffer);
        return ArrayPool<float>.Shared.Rent(length);
    }

    private static void KeepBuffer(ref float[]? spare, float[] buffer)
    {
        var other = Interlocked.Exchange(ref spare, buffer);
        if (other is not null) ArrayPool<float>.Shared.Return(other);
    }

    /// <summary>
    /// Raw scores of the first <paramref name="count"/> scaled rows (row-major; the arrays may be longer). The count
    /// is a multiple of <see cref="BatchRows.Multiple"/>: the rows after the batch's are zeros, scored and dropped.
    /// A detector whose per-feature contributions come out of the scoring itself (a network's per-feature
    /// error, a gradient) writes every value of each row's into <paramref name="contributions"/> (which is not
    /// cleared beforehand); one that can compute them from the row alone leaves it and overrides
    /// <see cref="Contributions"/>, which is only called for the rows that are explained.
    /// </summary>
    protected abstract double[] ScoreScaled(float[] scaled, int count, float[] contributions);

    /// <summary>
    /// Each feature's non-negative contribution to an explained row's raw score: by default what
    /// <see cref="ScoreScaled"/> wrote for the row (<paramref name="scored"/>); a detector that wrote nothing
    /// computes them from the scaled row into <paramref name="scratch"/> (every value) and returns it.
    /// </summary>
    protected virtual ReadOnlySpan<float> Contributions(ReadOnlySpan<float> scaledRow, ReadOnlySpan<float> scored, Span<float> scratch) => scored;

    /// <summary>Writes the scaler and, when it has them, the normal quantiles alerts quote (an optional section: files without it still load).</summary>
    protected void WriteScaler(ModelFileWriter writer)
    {
        writer.Add("scaler", Scaler.WriteTo);
        if (Scaler.Normal is { } normal) writer.Add(NormalQuantilesSection, normal.WriteTo);
    }

    /// <summary>Reads the scaler and the normal quantiles when the file has them.</summary>
    protected static FeatureScaler ReadScaler(ModelFileReader file)
    {
        var scaler = file.Read("scaler", FeatureScaler.ReadFrom);
        return file.Has(NormalQuantilesSection) ? scaler.WithNormal(file.Read(NormalQuantilesSection, NormalQuantiles.ReadFrom)) : scaler;
    }

    private static FeatureNormal NormalReference(FeatureScaler scaler, int feature) =>
        scaler.Normal is { } q
            ? new FeatureNormal(q.At(0, feature), q.At(1, feature), q.At(2, feature))
            : new FeatureNormal(scaler.Center[feature], null, null);

    private const string NormalQuantilesSection = "normal-quantiles";

    /// <summary>The largest contributions as shares of the row's total, largest first, each with what the training data says is normal for it.</summary>
    internal static IReadOnlyList<FeatureContribution> TopContributions(ReadOnlySpan<float> features, ReadOnlySpan<float> contributions, int top, FeatureScaler? scaler = null)
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
            result[k] = new FeatureContribution(FeatureSchema.Names[best[k]], features[best[k]], contributions[best[k]] / total)
            {
                Normal = scaler is null ? null : NormalReference(scaler, best[k]),
            };
        return result;
    }
}
