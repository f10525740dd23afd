using System.Buffers;
using System.Numerics;
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
    private readonly Tensor _rankingTensor;

    private KnnDetector(KnnHyperParameters parameters, FeatureScaler scaler, float[] reservoir, Device device)
        : base("knn", device, scaler, parameters.Clip, parameters.ExplainTop)
    {
        _parameters = parameters;
        _reservoir = reservoir;
        // [-2 r, |r|^2] per reservoir row, transposed: a row [x, 1] times this is |r|^2 - 2 x.r, the squared distance
        // less |x|^2 (the same for the whole row, so it orders the row's neighbours alike), in one matrix product.
        int f = FeatureSchema.Count, rows = ReservoirRows;
        var ranking = new float[(f + 1) * rows];
        for (int r = 0; r < rows; r++)
        {
            float norm = 0;
            for (int j = 0; j < f; j++)
            {
                float v = reservoir[r * f + j];
                ranking[j * rows + r] = -2 * v;
                norm += v * v;
            }
            ranking[f * rows + r] = norm;
        }
        _rankingTensor = TensorTransfer.ToTensor(ranking, [f + 1, rows], device).DetachFromDisposeScope();
    }

    public static IDetectorKind<KnnHyperParameters> Kind { get; } = new KindImpl();

    public int ReservoirRows => _reservoir.Length / FeatureSchema.Count;

    protected override double[] ScoreScaled(float[] scaled, int count, float[] contributions)
    {
        int f = FeatureSchema.Count, reservoirRows = ReservoirRows;
        int k = Math.Min(_parameters.K, reservoirRows);
        // The matrix product ranks the reservoir fast but approximately: |x|^2 + |r|^2 - 2 x.r loses ~1e-4 of a
        // distance to cancellation, and how much depends on the shape of the batch (a row scored alone or among
        // 1000 differs). It only shortlists candidates; their distances are then computed directly, row by row,
        // so a row's score does not depend on what else is in the batch.
        int shortlist = Math.Min(reservoirRows, k + 5);
        var scores = new double[count];
        var candidateValue = new float[shortlist];
        var candidateRow = new int[shortlist];
        var distances = new double[shortlist];
        // Blocks of rows bound the host copy of the ranking (block x reservoir floats).
        int block = Math.Max(1, Math.Min(count, (1 << 20) / reservoirRows));
        var augmented = ArrayPool<float>.Shared.Rent(block * (f + 1));
        var ranking = ArrayPool<float>.Shared.Rent(block * reservoirRows);
        try
        {
            for (int from = 0; from < count; from += block)
            {
                int rows = Math.Min(block, count - from);
                for (int r = 0; r < rows; r++)
                {
                    scaled.AsSpan((from + r) * f, f).CopyTo(augmented.AsSpan(r * (f + 1), f));
                    augmented[r * (f + 1) + f] = 1;
                }
                using (var scope = NewDisposeScope())
                using (inference_mode())
                {
                    var x = TensorTransfer.ToTensor(augmented.AsSpan(0, rows * (f + 1)), [rows, f + 1], Device);
                    TensorTransfer.CopyTo(x.matmul(_rankingTensor), ranking.AsSpan(0, rows * reservoirRows));
                }
                for (int r = 0; r < rows; r++)
                    scores[from + r] = ScoreRow(scaled.AsSpan((from + r) * f, f), ranking.AsSpan(r * reservoirRows, reservoirRows), k,
                        candidateValue, candidateRow, distances, contributions.AsSpan((from + r) * f, f));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(augmented);
            ArrayPool<float>.Shared.Return(ranking);
        }
        return scores;
    }

    /// <summary>Mean exact distance of a row to its k nearest among the shortlist of the best-ranked reservoir rows;
    /// writes each feature's squared difference to the nearest one.</summary>
    private double ScoreRow(ReadOnlySpan<float> row, ReadOnlySpan<float> ranking, int k, float[] candidateValue, int[] candidateRow,
        double[] distances, Span<float> contributions)
    {
        int f = row.Length, shortlist = candidateValue.Length, filled = 0;
        // The shortlist: the smallest ranking values, kept sorted. Once it is full, most values fail the first
        // comparison, a vector of them at a time.
        int lanes = Vector<float>.Count;
        for (int q = 0; q < ranking.Length; q++)
        {
            if (filled == shortlist && (q & (lanes - 1)) == 0 && q + lanes <= ranking.Length
                && !Vector.LessThanAny(new Vector<float>(ranking.Slice(q, lanes)), new Vector<float>(candidateValue[shortlist - 1])))
            {
                q += lanes - 1;
                continue;
            }
            float v = ranking[q];
            if (filled == shortlist && !(v < candidateValue[shortlist - 1])) continue;
            int at = filled < shortlist ? filled++ : shortlist - 1;
            while (at > 0 && candidateValue[at - 1] > v)
            {
                candidateValue[at] = candidateValue[at - 1];
                candidateRow[at] = candidateRow[at - 1];
                at--;
            }
            candidateValue[at] = v;
            candidateRow[at] = q;
        }
        for (int c = 0; c < filled; c++)
        {
            var normal = _reservoir.AsSpan(candidateRow[c] * f, f);
            double sum = 0;
            for (int j = 0; j < f; j++)
            {
                double d = row[j] - normal[j];
                sum += d * d;
            }
            distances[c] = sum;
        }
        // The k nearest by exact distance (ties: the lower reservoir row), nearest first.
        double total = 0;
        for (int c = 0; c < k; c++)
        {
            int best = c;
            for (int q = c + 1; q < filled; q++)
                if (distances[q] < distances[best] || (distances[q] == distances[best] && candidateRow[q] < candidateRow[best])) best = q;
            (distances[c], distances[best]) = (distances[best], distances[c]);
            (candidateRow[c], candidateRow[best]) = (candidateRow[best], candidateRow[c]);
            total += Math.Sqrt(distances[c]);
        }
        var nearest = _reservoir.AsSpan(candidateRow[0] * f, f);
        for (int j = 0; j < f; j++)
        {
            float d = row[j] - nearest[j];
            contributions[j] = d * d;
        }
        return total / k;
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        WriteScaler(writer);
        writer.Add("reservoir", w =>
        {
            w.Write(ReservoirRows);
            foreach (float v in _reservoir) w.Write(v);
        });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _rankingTensor.Dispose();
    }

    private sealed class KindImpl : IDetectorKind<KnnHyperParameters>
    {
        public string Name => "knn";

        public string Description => "k-nearest-neighbour distance to a reservoir of normal feature vectors";

        public KnnHyperParameters DefaultHyperParameters { get; } = new();

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this);
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
            var detector = new KnnDetector(p, ReadScaler(file), reservoir, device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
