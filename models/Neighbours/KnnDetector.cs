using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Scaling;
using StreamDetect.Models.Tensors;
using StreamDetect.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Neighbours;

/// <summary>
/// k-nearest-neighbour distance of a window's embedding — the robustly scaled feature vector — to a
/// reservoir of normal training embeddings (uniform sample). Raw score: mean Euclidean distance to the k
/// nearest (computed exactly per row, so a row scores the same alone or in any batch); explanation: each
/// feature's share of the squared distance to the nearest one.
/// </summary>
public sealed class KnnDetector : FeatureDetector
{
    private readonly KnnHyperParameters _parameters;
    private readonly float[] _reservoir; // row-major, scaled and clipped
    private readonly Tensor _reservoirTensor;

    private KnnDetector(KnnHyperParameters parameters, FeatureScaler scaler, float[] reservoir, Device device)
        : base("knn", device, scaler, parameters.Clip, parameters.ExplainTop)
    {
        _parameters = parameters;
        _reservoir = reservoir;
        _reservoirTensor = TensorTransfer.ToTensor(reservoir, [reservoir.Length / FeatureSchema.Count, FeatureSchema.Count], device).DetachFromDisposeScope();
    }

    public static IDetectorKind Kind { get; } = new KindImpl();

    public int ReservoirRows => _reservoir.Length / FeatureSchema.Count;

    protected override double[] ScoreScaled(float[] scaled, int count, float[] contributions)
    {
        int f = FeatureSchema.Count, reservoirRows = ReservoirRows;
        int k = Math.Min(_parameters.K, reservoirRows);
        // cdist over a reservoir computes |x|^2 + |r|^2 - 2 x.r with a matrix product: fast, but cancellation costs
        // ~1e-4 of a distance, and how much depends on the shape of the batch (a row scored alone or among 1000
        // differs). It only shortlists candidates; their distances are then computed directly, row by row, so a
        // row's score does not depend on what else is in the batch.
        int shortlist = Math.Min(reservoirRows, 2 * k + 8);
        long[] candidates;
        using (var scope = NewDisposeScope())
        using (inference_mode())
        {
            var x = TensorTransfer.ToTensor(scaled.AsSpan(0, count * f), [count, f], Device);
            var (_, index) = cdist(x, _reservoirTensor).topk(shortlist, 1, largest: false);
            candidates = TensorTransfer.ToLongArray(index);
        }
        var scores = new double[count];
        var distances = new double[shortlist];
        var rowsOf = new int[shortlist];
        for (int r = 0; r < count; r++)
        {
            var row = scaled.AsSpan(r * f, f);
            for (int c = 0; c < shortlist; c++)
            {
                int at = (int)candidates[r * shortlist + c];
                var normal = _reservoir.AsSpan(at * f, f);
                double sum = 0;
                for (int j = 0; j < f; j++)
                {
                    double d = row[j] - normal[j];
                    sum += d * d;
                }
                distances[c] = sum;
                rowsOf[c] = at;
            }
            // The k nearest by exact distance (ties: the lower reservoir row), nearest first.
            double total = 0;
            for (int c = 0; c < k; c++)
            {
                int best = c;
                for (int q = c + 1; q < shortlist; q++)
                    if (distances[q] < distances[best] || (distances[q] == distances[best] && rowsOf[q] < rowsOf[best])) best = q;
                (distances[c], distances[best]) = (distances[best], distances[c]);
                (rowsOf[c], rowsOf[best]) = (rowsOf[best], rowsOf[c]);
                total += Math.Sqrt(distances[c]);
            }
            scores[r] = total / k;
            var nearest = _reservoir.AsSpan(rowsOf[0] * f, f);
            for (int j = 0; j < f; j++)
            {
                float d = row[j] - nearest[j];
                contributions[r * f + j] = d * d;
            }
        }
        return scores;
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        writer.Add("scaler", Scaler.WriteTo);
        writer.Add("reservoir", w =>
        {
            w.Write(ReservoirRows);
            foreach (float v in _reservoir) w.Write(v);
        });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _reservoirTensor.Dispose();
    }

    private sealed class KindImpl : IDetectorKind
    {
        public string Name => "knn";

        public string Description => "k-nearest-neighbour distance to a reservoir of normal feature vectors";

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.Options.Models.Knn;
            if (p.K < 1 || p.Reservoir < 1) throw new ArgumentException("streamdetect.models.knn: k and reservoir must be >= 1");
            var features = context.Features(p.MaxSamples);
            var scaler = FeatureScaler.Fit(features);
            var random = context.Random(Name);
            var rows = Enumerable.Range(0, features.Rows).ToArray();
            random.Shuffle(rows);
            int keep = Math.Min(p.Reservoir, features.Rows);
            int f = FeatureSchema.Count;
            var reservoir = new float[keep * f];
            for (int r = 0; r < keep; r++) scaler.Transform(features.Row(rows[r]), reservoir.AsSpan(r * f, f), p.Clip);
            context.Report(Name, $"kept {keep} normal feature vectors");
            return new KnnDetector(p, scaler, reservoir, context.Device);
        }

        public AnomalyDetector Load(ModelFileReader file, Device device)
        {
            var p = file.ReadJson<KnnHyperParameters>("hyperparameters");
            var reservoir = file.Read("reservoir", r =>
            {
                int rows = r.ReadInt32();
                if (rows < 1 || rows > 10_000_000) throw new InvalidDataException($"reservoir of {rows} rows is not plausible");
                var values = new float[rows * FeatureSchema.Count];
                for (int i = 0; i < values.Length; i++) values[i] = r.ReadSingle();
                return values;
            });
            var detector = new KnnDetector(p, file.Read("scaler", FeatureScaler.ReadFrom), reservoir, device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
