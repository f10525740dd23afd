using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Scaling;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Baselines;

/// <summary>
/// Isolation forest over the scaled feature vector: anomalies are isolated by fewer random splits. Raw
/// score s = 2^(-E[path length] / c(ψ)) in (0, 1]; explanation: how much each feature's splits shortened
/// the row's paths. Plain C#, no tensors.
/// </summary>
public sealed class IsolationForestDetector : FeatureDetector
{
    private readonly IsolationForestHyperParameters _parameters;
    private readonly IsolationTree[] _trees;

    private IsolationForestDetector(IsolationForestHyperParameters parameters, FeatureScaler scaler, IsolationTree[] trees, torch.Device device)
        : base("iforest", device, scaler, 10f, parameters.ExplainTop)
    {
        _parameters = parameters;
        _trees = trees;
    }

    public static IDetectorKind<IsolationForestHyperParameters> Kind { get; } = new KindImpl();

    protected override double[] ScoreScaled(float[] scaled, int count, float[] contributions)
    {
        int f = FeatureSchema.Count;
        double normaliser = IsolationTree.AveragePathLength(_parameters.SampleSize);
        var scores = new double[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = count >= 256 ? Environment.ProcessorCount : 1 }, r =>
        {
            var row = scaled.AsSpan(r * f, f);
            double total = 0;
            foreach (var tree in _trees) total += tree.PathLength(row);
            scores[r] = Math.Pow(2, -(total / _trees.Length) / normaliser);
        });
        return scores;
    }

    /// <summary>The explanation's shares: how much each feature's splits isolated the row, tree by tree.</summary>
    protected override ReadOnlySpan<float> Contributions(ReadOnlySpan<float> scaledRow, ReadOnlySpan<float> scored, Span<float> scratch)
    {
        scratch.Clear();
        foreach (var tree in _trees) tree.PathLength(scaledRow, scratch);
        return scratch;
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        WriteScaler(writer);
        writer.Add("trees", w =>
        {
            w.Write(_trees.Length);
            foreach (var tree in _trees) tree.WriteTo(w);
        });
    }

    private sealed class KindImpl : IDetectorKind<IsolationForestHyperParameters>
    {
        public string Name => "iforest";

        public string Description => "isolation forest over the feature vector";

        public IsolationForestHyperParameters DefaultHyperParameters { get; } = new();

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this);
            if (p.Trees < 1 || p.SampleSize < 2) throw new ArgumentException("streamdetect.models.iforest: trees must be >= 1 and sample-size >= 2");
            var features = context.Features(p.MaxSamples);
            var scaler = FeatureScaler.Fit(features);
            var data = scaler.Transform(features.Values, features.Rows, 10f);
            var random = context.Random(Name);
            int sample = Math.Min(p.SampleSize, features.Rows);
            int depth = (int)Math.Ceiling(Math.Log2(Math.Max(2, p.SampleSize)));
            var seeds = Enumerable.Range(0, p.Trees).Select(_ => random.Next()).ToArray();
            var trees = new IsolationTree[p.Trees];
            Parallel.For(0, p.Trees, t =>
            {
                var treeRandom = new Random(seeds[t]);
                var rows = new int[sample];
                for (int i = 0; i < sample; i++) rows[i] = treeRandom.Next(features.Rows);
                trees[t] = IsolationTree.Grow(data, FeatureSchema.Count, rows, depth, treeRandom);
            });
            context.Report(Name, $"grew {p.Trees} trees on {sample} of {features.Rows} rows each");
            return new IsolationForestDetector(p, scaler, trees, context.Device);
        }

        public AnomalyDetector Load(ModelFileReader file, torch.Device device)
        {
            var p = file.ReadJson<IsolationForestHyperParameters>("hyperparameters");
            var trees = file.Read("trees", r =>
            {
                int count = r.ReadInt32();
                if (count < 1 || count > 100_000) throw new InvalidDataException($"{count} trees is not plausible");
                return Enumerable.Range(0, count).Select(_ => IsolationTree.ReadFrom(r, FeatureSchema.Count)).ToArray();
            });
            var detector = new IsolationForestDetector(p, ReadScaler(file), trees, device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
