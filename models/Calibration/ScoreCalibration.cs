using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StreamDetect.Models.Calibration;

/// <summary>
/// Maps a detector's raw score to a scale shared by all detectors: -log10 of the probability that a
/// normal sample (a normal user-day's highest score, or a normal event: see
/// <see cref="Detection.CalibrationBasis"/>) scores at least as high. Fitted on normal validation data,
/// never on test data. The body of the distribution is kept as quantile points, its top
/// <c>tailFraction</c> exactly (the largest sample values), and beyond the largest value an exponential
/// tail fitted to the excesses of that top share takes over (peaks over threshold), so scores beyond
/// anything seen in validation keep rising instead of saturating. 3 means "1 normal sample in 1000".
/// </summary>
public sealed class ScoreCalibration
{
    private const double MinSurvival = 1e-300;

    private readonly double[] _quantiles; // body: values at cumulative probabilities k / (Count - 1) * (1 - tail share)
    private readonly double[] _tail;      // the largest sample values, ascending
    private readonly double _tailScale;   // mean excess of the tail values over the tail's threshold
    private readonly long _sampleSize;
    private readonly double[] _quantileBlocks; // every Block-th quantile: where a search starts
    private readonly double[] _tailBlocks;

    private ScoreCalibration(double[] quantiles, double[] tail, double tailScale, long sampleSize)
    {
        _quantiles = quantiles;
        _tail = tail;
        _quantileBlocks = BlockStarts(quantiles);
        _tailBlocks = BlockStarts(tail);
        _tailScale = tailScale;
        _sampleSize = sampleSize;
    }

    /// <summary>No calibration: <see cref="Map"/> returns the raw score (used while a detector is being fitted).</summary>
    public static ScoreCalibration Identity { get; } = new([], [], 0, 0);

    public bool IsIdentity => _quantiles.Length == 0;

    /// <summary>How many normal scores the calibration was fitted on.</summary>
    public long SampleSize => _sampleSize;

    private double TailShare => (double)_tail.Length / _sampleSize;

    /// <summary>Fits the calibration to raw scores of normal samples.</summary>
    /// <param name="normalScores">Raw scores of normal validation samples (NaN ignored).</param>
    /// <param name="points">Quantile points kept for the body.</param>
    /// <param name="tailFraction">Top share of the sample kept exactly and used to fit the extrapolation (at least 20 values, at most 4096).</param>
    /// <param name="minTailScale">The least raw-score rise per e-fold of rarity beyond the sample (0: none): for a score that is a
    /// log-probability, what its meaning guarantees (<see cref="Detection.AnomalyDetector.TailScaleFloor"/>), where the fitted
    /// excesses of the sample's top may claim a far lighter tail.</param>
    public static ScoreCalibration Fit(IEnumerable<double> normalScores, int points = 1024, double tailFraction = 0.02, double minTailScale = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minTailScale);
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tailFraction);
        var sorted = normalScores.Where(double.IsFinite).ToArray();
        if (sorted.Length < 4) throw new ArgumentException($"calibration needs at least 4 finite normal scores, got {sorted.Length}", nameof(normalScores));
        Array.Sort(sorted);
        int n = sorted.Length;
        int tailCount = Math.Clamp((int)Math.Ceiling(n * tailFraction), Math.Min(20, n / 2), Math.Min(4096, n / 2));
        var tail = sorted[(n - tailCount)..];
        double threshold = sorted[n - tailCount - 1];
        double excess = 0;
        foreach (double v in tail) excess += v - threshold;
        double spread = sorted[^1] - sorted[0];
        double scale = Math.Max(Math.Max(excess / tailCount, minTailScale), Math.Max(1e-9, 1e-6 * Math.Max(Math.Abs(threshold), spread)));

        int count = Math.Min(points, n - tailCount);
        var quantiles = new double[count];
        double bodyShare = (double)(n - tailCount) / n;
        for (int k = 0; k < count; k++) quantiles[k] = Quantile(sorted, (double)k / (count - 1) * bodyShare);
        return new ScoreCalibration(quantiles, tail, scale, n);
    }

    /// <summary>The probability that a normal sample scores at least <paramref name="raw"/>.</summary>
    public double Survival(double raw)
    {
        if (IsIdentity) throw new InvalidOperationException("an identity calibration has no distribution");
        if (double.IsNaN(raw)) return 1;
        double n = _sampleSize;
        if (raw > _tail[^1]) return Math.Max(MinSurvival, Math.Exp(-(raw - _tail[^1]) / _tailScale) / n);
        if (raw >= _tail[0])
        {
            // Piecewise linear through (tail[j], (T - j) / n): the share of the sample at or above tail[j].
            int j = LowerBound(_tail, _tailBlocks, raw);
            if (_tail[j] == raw || j == 0) return (_tail.Length - j) / n;
            double fraction = (raw - _tail[j - 1]) / (_tail[j] - _tail[j - 1]);
            return (_tail.Length - (j - 1) - fraction) / n;
        }
        int lo = LowerBound(_quantiles, _quantileBlocks, raw);
        if (lo == 0) return 1;
        if (lo >= _quantiles.Length) return TailShare + 1 / n;
        double step = (1 - TailShare) / (_quantiles.Length - 1);
        double below = _quantiles[lo - 1], above = _quantiles[lo];
        double f = above > below ? (raw - below) / (above - below) : 0;
        return Math.Max(TailShare, 1 - (lo - 1 + f) * step);
    }

    /// <summary>The calibrated score of a raw score (the raw score itself for <see cref="Identity"/>).</summary>
    public double Map(double raw)
    {
        if (IsIdentity) return raw;
        if (double.IsNaN(raw)) return 0;
        return -Math.Log10(Survival(raw));
    }

    /// <summary>The raw score whose survival probability is <paramref name="survival"/> (inverse of <see cref="Survival"/>).</summary>
    public double RawAtSurvival(double survival)
    {
        if (IsIdentity) throw new InvalidOperationException("an identity calibration has no distribution");
        survival = Math.Clamp(survival, MinSurvival, 1);
        double n = _sampleSize;
        if (survival < 1 / n) return _tail[^1] - _tailScale * Math.Log(survival * n);
        if (survival <= TailShare)
        {
            double position = _tail.Length - survival * n; // index into the ascending tail
            int j = Math.Clamp((int)Math.Floor(position), 0, _tail.Length - 1);
            if (j >= _tail.Length - 1) return _tail[^1];
            return _tail[j] + (position - j) * (_tail[j + 1] - _tail[j]);
        }
        double p = (1 - survival) / (1 - TailShare) * (_quantiles.Length - 1);
        int k = Math.Clamp((int)Math.Floor(p), 0, _quantiles.Length - 1);
        if (k >= _quantiles.Length - 1) return _quantiles[^1];
        return _quantiles[k] + (p - k) * (_quantiles[k + 1] - _quantiles[k]);
    }

    /// <summary>
    /// The sample value (one of the exactly kept tail values) whose share of the sample at or above it is nearest to
    /// <paramref name="survival"/> in ratio: a threshold that alerts as close to the wanted share as the sample can
    /// tell. Between two sample values the sample holds no evidence (and a score distribution with atoms, common for
    /// sequence models, has none there either), so interpolating there lands a threshold just above an atom of the
    /// normal scores, alerting far fewer than wanted. Outside the exact tail (a share above the tail's, or below one
    /// sample) it is <see cref="RawAtSurvival"/>.
    /// </summary>
    public double NearestSampleAtSurvival(double survival)
    {
        if (IsIdentity) throw new InvalidOperationException("an identity calibration has no distribution");
        double n = _sampleSize;
        if (!(survival >= 1 / n && survival <= TailShare)) return RawAtSurvival(survival);
        double best = _tail[^1], bestDistance = double.PositiveInfinity;
        for (int j = 0; j < _tail.Length; j++)
        {
            if (j > 0 && _tail[j] == _tail[j - 1]) continue; // ties: the share at or above counts from the first of them
            double distance = Math.Abs(Math.Log((_tail.Length - j) / n / survival));
            if (distance <= bestDistance) (best, bestDistance) = (_tail[j], distance);
        }
        return best;
    }

    private const int Block = 32;

    internal static double[] BlockStarts(double[] sorted)
    {
        var starts = new double[(sorted.Length + Block - 1) / Block];
        for (int b = 0; b < starts.Length; b++) starts[b] = sorted[b * Block];
        return starts;
    }

    /// <summary>The first index whose value is not below <paramref name="value"/> (the length when there is none):
    /// for sorted values without NaN, how many are below it.</summary>
    internal static int LowerBound(double[] sorted, double value) => CountBelow(sorted, 0, sorted.Length, value);

    /// <summary><see cref="LowerBound(double[], double)"/> through the block starts (<see cref="BlockStarts"/>): count
    /// the blocks that start below the value, then the values below it in the last of those. Two short vector
    /// scans instead of ten dependent, mispredicted steps of a binary search.</summary>
    internal static int LowerBound(double[] sorted, double[] blockStarts, double value)
    {
        int blocks = CountBelow(blockStarts, 0, blockStarts.Length, value);
        if (blocks == 0) return 0;
        int from = (blocks - 1) * Block + 1;
        return from + CountBelow(sorted, from, Math.Min(blocks * Block, sorted.Length) - from, value);
    }

    private static int CountBelow(double[] values, int from, int count, double value)
    {
        int below = 0, j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double start = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(values), from);
            var threshold = Vector256.Create(value);
            for (; j + Vector256<double>.Count <= count; j += Vector256<double>.Count)
                below += BitOperations.PopCount(Vector256.LessThan(Vector256.LoadUnsafe(ref start, (nuint)j), threshold).ExtractMostSignificantBits());
        }
        for (; j < count; j++) if (values[from + j] < value) below++;
        return below;
    }

    private static double Quantile(double[] sorted, double p)
    {
        double position = p * (sorted.Length - 1);
        int k = (int)Math.Floor(position);
        if (k >= sorted.Length - 1) return sorted[^1];
        return sorted[k] + (position - k) * (sorted[k + 1] - sorted[k]);
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(_quantiles.Length);
        foreach (double q in _quantiles) writer.Write(q);
        writer.Write(_tail.Length);
        foreach (double t in _tail) writer.Write(t);
        writer.Write(_tailScale);
        writer.Write(_sampleSize);
    }

    public static ScoreCalibration ReadFrom(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > 1 << 20) throw new InvalidDataException($"calibration with {count} quantile points is not valid");
        var quantiles = new double[count];
        for (int k = 0; k < count; k++) quantiles[k] = reader.ReadDouble();
        int tailCount = reader.ReadInt32();
        if (tailCount < 0 || tailCount > 1 << 20) throw new InvalidDataException($"calibration with {tailCount} tail values is not valid");
        var tail = new double[tailCount];
        for (int k = 0; k < tailCount; k++) tail[k] = reader.ReadDouble();
        double scale = reader.ReadDouble();
        long size = reader.ReadInt64();
        if (count == 0) return Identity;
        if (count < 2 || tailCount < 1 || size < count + tailCount - 1) throw new InvalidDataException("calibration sizes are not consistent");
        for (int k = 1; k < count; k++)
            if (!(quantiles[k] >= quantiles[k - 1])) throw new InvalidDataException("calibration quantiles are not sorted");
        for (int k = 1; k < tailCount; k++)
            if (!(tail[k] >= tail[k - 1])) throw new InvalidDataException("calibration tail is not sorted");
        if (!(scale > 0)) throw new InvalidDataException("calibration tail scale is not positive");
        return new ScoreCalibration(quantiles, tail, scale, size);
    }
}
