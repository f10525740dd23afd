using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StreamDetect.Models.Features;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Scaling;

/// <summary>
/// Robust per-feature scaling fitted on normal training features: (x - median) / scale, where scale is
/// the largest of IQR/1.349, the standard deviation of the values winsorized at the 0.5% and 99.5%
/// quantiles, the 0.1%..99.9% range / 6.18 (what a normal distribution's would be), and a floor. The
/// last two keep mostly-constant features (zero on almost every event, e.g. a review in the last
/// minute) from getting a near-zero scale, which would make every rare-but-normal event extreme.
/// <see cref="CumulativeFeatures"/> get an infinite scale: they always scale to 0.
/// </summary>
public sealed class FeatureScaler
{
    private readonly float[] _center;
    private readonly float[] _scale;

    private FeatureScaler(float[] center, float[] scale, NormalQuantiles? normal = null)
    {
        _center = center;
        _scale = scale;
        Normal = normal;
    }

    /// <summary>Quantiles of the rows the scaler was fitted on (what alerts quote as normal); null for a scaler read from a model file saved before they were kept.</summary>
    public NormalQuantiles? Normal { get; }

    /// <summary>This scaler with the quantiles read from a model file's <c>normal-quantiles</c> section.</summary>
    public FeatureScaler WithNormal(NormalQuantiles? normal) => new(_center, _scale, normal);

    public int Count => _center.Length;

    public ReadOnlySpan<float> Center => _center;

    public ReadOnlySpan<float> Scale => _scale;

    public static FeatureScaler Fit(FeatureMatrix data, float scaleFloor = 0.05f, int maxRows = 50_000)
    {
        if (data.Rows == 0) throw new ArgumentException("cannot fit a scaler on no rows", nameof(data));
        int columns = FeatureMatrix.Columns;
        int step = Math.Max(1, data.Rows / maxRows);
        int rows = (data.Rows + step - 1) / step;
        var center = new float[columns];
        var scale = new float[columns];
        var levels = NormalQuantiles.Levels;
        var quantiles = new float[levels.Count * columns];
        Parallel.For(0, columns, j =>
        {
            var column = new float[rows];
            for (int r = 0; r < rows; r++) column[r] = data.Values[(long)r * step * columns + j];
            Array.Sort(column);
            for (int l = 0; l < levels.Count; l++) quantiles[l * columns + j] = Quantile(column, levels[l]);
            float median = Quantile(column, 0.5), q25 = Quantile(column, 0.25), q75 = Quantile(column, 0.75);
            float lo = Quantile(column, 0.005), hi = Quantile(column, 0.995);
            float tailRange = Quantile(column, 0.999) - Quantile(column, 0.001);
            double sum = 0, sumSq = 0;
            foreach (float v in column)
            {
                double w = Math.Clamp(v, lo, hi);
                sum += w;
                sumSq += w * w;
            }
            double mean = sum / rows;
            double std = Math.Sqrt(Math.Max(0, sumSq / rows - mean * mean));
            center[j] = median;
            if (CumulativeFeatures.Mask[j])
            {
                scale[j] = float.PositiveInfinity;
                return;
            }
            scale[j] = (float)Math.Max(Math.Max((q75 - q25) / 1.349, std), Math.Max(tailRange / 6.18, scaleFloor));
        });
        return new FeatureScaler(center, scale, new NormalQuantiles(quantiles));
    }

    private static float Quantile(float[] sorted, double p)
    {
        double position = p * (sorted.Length - 1);
        int k = (int)position;
        if (k >= sorted.Length - 1) return sorted[^1];
        return (float)(sorted[k] + (position - k) * (sorted[k + 1] - sorted[k]));
    }

    /// <summary>Scales one vector into <paramref name="destination"/>, clipping to ±<paramref name="clip"/> (non-finite values become 0).</summary>
    public void Transform(ReadOnlySpan<float> features, Span<float> destination, float clip)
    {
        int count = _center.Length;
        if (features.Length < count) throw new ArgumentException($"{features.Length} features, the scaler has {count}", nameof(features));
        if (destination.Length < count) throw new ArgumentException($"{destination.Length} places for {count} features", nameof(destination));
        if (-clip > clip) throw new ArgumentOutOfRangeException(nameof(clip), clip, "the clip is negative");
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // The same IEEE operations as the scalar loop below, 8 lanes at a time: the same values to the bit.
            ref float x = ref MemoryMarshal.GetReference(features);
            ref float center = ref MemoryMarshal.GetArrayDataReference(_center);
            ref float scale = ref MemoryMarshal.GetArrayDataReference(_scale);
            ref float result = ref MemoryMarshal.GetReference(destination);
            var high = Vector256.Create(clip);
            var low = Vector256.Create(-clip);
            var infinity = Vector256.Create(float.PositiveInfinity);
            for (; j <= count - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var z = (Vector256.LoadUnsafe(ref x, (nuint)j) - Vector256.LoadUnsafe(ref center, (nuint)j)) / Vector256.LoadUnsafe(ref scale, (nuint)j);
                var clamped = Vector256.ConditionalSelect(Vector256.LessThan(z, low), low, Vector256.ConditionalSelect(Vector256.GreaterThan(z, high), high, z));
                (clamped & Vector256.LessThan(Vector256.Abs(z), infinity)).StoreUnsafe(ref result, (nuint)j);
            }
        }
        for (; j < count; j++)
        {
            float z = (features[j] - _center[j]) / _scale[j];
            destination[j] = float.IsFinite(z) ? Math.Clamp(z, -clip, clip) : 0;
        }
    }

    /// <summary>Scales many rows (row-major) into a new array.</summary>
    public float[] Transform(ReadOnlySpan<float> rows, int count, float clip)
    {
        var result = new float[count * _center.Length];
        for (int r = 0; r < count; r++)
            Transform(rows.Slice(r * _center.Length, _center.Length), result.AsSpan(r * _center.Length, _center.Length), clip);
        return result;
    }

    /// <summary>Scales the feature rows of every new event of the batch (row-major: the inputs one after
    /// another, each input's events oldest first).</summary>
    public float[] Transform(IReadOnlyList<Detection.ScoringInput> batch, float clip)
    {
        int rows = 0;
        foreach (var input in batch) rows += input.NewEvents;
        var result = new float[rows * _center.Length];
        int row = 0;
        foreach (var input in batch)
            for (int e = 0; e < input.NewEvents; e++, row++)
                Transform(input.FeaturesAt(e), result.AsSpan(row * _center.Length, _center.Length), clip);
        return result;
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(_center.Length);
        foreach (float v in _center) writer.Write(v);
        foreach (float v in _scale) writer.Write(v);
    }

    public static FeatureScaler ReadFrom(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count != FeatureSchema.Count)
            throw new InvalidDataException($"scaler has {count} features, the feature schema has {FeatureSchema.Count}");
        var center = new float[count];
        var scale = new float[count];
        for (int j = 0; j < count; j++) center[j] = reader.ReadSingle();
        for (int j = 0; j < count; j++)
        {
            scale[j] = reader.ReadSingle();
            if (!(scale[j] > 0)) throw new InvalidDataException($"scale of feature {j} is not positive");
        }
        return new FeatureScaler(center, scale);
    }
}
