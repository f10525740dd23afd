using System.Numerics;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Scaling;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Baselines;

/// <summary>
/// Robust z-score / IQR baseline: every feature is scaled by the <see cref="FeatureScaler"/> (median and
/// IQR-based scale of normal training events), and the raw score is the mean of the
/// <see cref="ZScoreHyperParameters.Top"/> largest |z|. Explanation: those features' |z| shares.
/// No tensors: cheap enough to run beside every other model.
/// </summary>
public sealed class RobustZScoreDetector : FeatureDetector
{
    private readonly ZScoreHyperParameters _parameters;

    private RobustZScoreDetector(ZScoreHyperParameters parameters, FeatureScaler scaler, torch.Device device)
        : base("zscore", device, scaler, parameters.Clip, parameters.ExplainTop)
    {
        _parameters = parameters;
    }

    public static IDetectorKind Kind { get; } = new KindImpl();

    protected override double[] ScoreScaled(float[] scaled, int count, float[] contributions)
    {
        int f = FeatureSchema.Count, top = Math.Min(_parameters.Top, f);
        var scores = new double[count];
        Span<int> best = stackalloc int[top];
        Span<float> values = stackalloc float[top];
        for (int r = 0; r < count; r++)
        {
            int filled = Largest(scaled.AsSpan(r * f, f), best, values);
            double sum = 0;
            for (int q = 0; q < filled; q++) sum += values[q];
            scores[r] = sum / filled;
        }
        return scores;
    }

    /// <summary>The explanation's shares: the |z| of the features the score averaged, 0 for the others.</summary>
    protected override ReadOnlySpan<float> Contributions(ReadOnlySpan<float> scaledRow, ReadOnlySpan<float> scored, Span<float> scratch)
    {
        int top = Math.Min(_parameters.Top, scaledRow.Length);
        Span<int> best = stackalloc int[top];
        Span<float> values = stackalloc float[top];
        int filled = Largest(scaledRow, best, values);
        scratch.Clear();
        for (int q = 0; q < filled; q++) scratch[best[q]] = values[q];
        return scratch;
    }

    /// <summary>
    /// The features with the largest |z| of a row: their indices in <paramref name="best"/> and their |z| in
    /// <paramref name="values"/>, in slot order (the order the score sums them in); returns how many. The first
    /// features fill the slots, then a larger |z| replaces the smallest slot (the first of equal ones): the
    /// smallest slot is found again only after a replacement, and a vector of features below it is skipped at once.
    /// </summary>
    private static int Largest(ReadOnlySpan<float> row, Span<int> best, Span<float> values)
    {
        int top = best.Length, filled = Math.Min(top, row.Length);
        for (int j = 0; j < filled; j++)
        {
            best[j] = j;
            values[j] = Math.Abs(row[j]);
        }
        if (filled < top || top == 0) return filled;
        int min = SmallestSlot(values);
        float smallest = values[min];
        int lanes = Vector<float>.Count;
        for (int j = top; j < row.Length; j++)
        {
            if ((j & (lanes - 1)) == 0 && j + lanes <= row.Length
                && !Vector.GreaterThanAny(Vector.Abs(new Vector<float>(row.Slice(j, lanes))), new Vector<float>(smallest)))
            {
                j += lanes - 1;
                continue;
            }
            float z = Math.Abs(row[j]);
            if (!(z > smallest)) continue;
            best[min] = j;
            values[min] = z;
            min = SmallestSlot(values);
            smallest = values[min];
        }
        return filled;
    }

    private static int SmallestSlot(ReadOnlySpan<float> values)
    {
        int min = 0;
        for (int q = 1; q < values.Length; q++) if (values[q] < values[min]) min = q;
        return min;
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        writer.Add("scaler", Scaler.WriteTo);
    }

    private sealed class KindImpl : IDetectorKind
    {
        public string Name => "zscore";

        public string Description => "robust z-score / IQR baseline over the feature vector";

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.Options.Models.ZScore;
            var scaler = FeatureScaler.Fit(context.Features(p.MaxSamples));
            context.Report(Name, $"fitted median/IQR scaling of {FeatureSchema.Count} features");
            return new RobustZScoreDetector(p, scaler, context.Device);
        }

        public AnomalyDetector Load(ModelFileReader file, torch.Device device)
        {
            var detector = new RobustZScoreDetector(file.ReadJson<ZScoreHyperParameters>("hyperparameters"), file.Read("scaler", FeatureScaler.ReadFrom), device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
