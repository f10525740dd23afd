namespace StreamDetect.Models.Calibration;

/// <summary>
/// Maps a detector's raw score to a scale shared by all detectors: -log10 of the probability that a
/// normal event scores at least as high. Fitted on the raw scores of normal validation events (never on
/// test data): an empirical distribution kept as quantile points, with an exponential tail fitted to
/// its top <c>tailFraction</c> so that scores beyond anything seen in validation keep rising instead of
/// saturating (peaks-over-threshold with an exponential excess model). 3 means "1 normal event in
/// 1000 scores this high"; scores of different detectors can be compared, maxed or averaged.
/// </summary>
public sealed class ScoreCalibration
{
    private const double MinSurvival = 1e-300;

    private readonly double[] _quantiles; // values at cumulative probabilities k / (Count - 1)
    private readonly double _tailStart;   // raw score where the exponential tail takes over
    private readonly double _tailMass;    // P(X >= tailStart)
    private readonly double _tailScale;   // mean excess above tailStart
    private readonly long _sampleSize;

    private ScoreCalibration(double[] quantiles, double tailStart, double tailMass, double tailScale, long sampleSize)
    {
        _quantiles = quantiles;
        _tailStart = tailStart;
        _tailMass = tailMass;
        _tailScale = tailScale;
        _sampleSize = sampleSize;
    }

    /// <summary>No calibration: <see cref="Map"/> returns the raw score (used while a detector is being fitted).</summary>
    public static ScoreCalibration Identity { get; } = new([], 0, 0, 0, 0);

    public bool IsIdentity => _quantiles.Length == 0;

    /// <summary>How many normal scores the calibration was fitted on.</summary>
    public long SampleSize => _sampleSize;

    /// <summary>Fits the calibration to raw scores of normal events.</summary>
    /// <param name="normalScores">Raw scores of normal validation events (NaN ignored).</param>
    /// <param name="points">Quantile points kept.</param>
    /// <param name="tailFraction">Top share of the sample modelled by the exponential tail.</param>
    public static ScoreCalibration Fit(IEnumerable<double> normalScores, int points = 1024, double tailFraction = 0.01)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tailFraction);
        var sorted = normalScores.Where(double.IsFinite).ToArray();
        if (sorted.Length < 2) throw new ArgumentException($"calibration needs at least 2 finite normal scores, got {sorted.Length}", nameof(normalScores));
        Array.Sort(sorted);
        int n = sorted.Length;
        int count = Math.Min(points, n);
        var quantiles = new double[count];
        for (int k = 0; k < count; k++) quantiles[k] = Quantile(sorted, (double)k / (count - 1));

        // Exponential tail above the (1 - tailFraction) quantile, at least 5 points in it when possible.
        int tailCount = Math.Clamp((int)Math.Ceiling(n * tailFraction), Math.Min(5, n - 1), n - 1);
        double tailStart = sorted[n - tailCount - 1];
        double excess = 0;
        for (int i = n - tailCount; i < n; i++) excess += sorted[i] - tailStart;
        double scale = excess / tailCount;
        double spread = sorted[^1] - sorted[0];
        scale = Math.Max(scale, Math.Max(1e-9, 1e-6 * Math.Max(Math.Abs(tailStart), spread)));
        double mass = (double)tailCount / (n + 1);
        return new ScoreCalibration(quantiles, tailStart, mass, scale, n);
    }

    /// <summary>The probability that a normal event scores at least <paramref name="raw"/>.</summary>
    public double Survival(double raw)
    {
        if (IsIdentity) throw new InvalidOperationException("an identity calibration has no distribution");
        if (double.IsNaN(raw)) return 1;
        if (raw > _tailStart) return Math.Max(MinSurvival, _tailMass * Math.Exp(-(raw - _tailStart) / _tailScale));
        // Lower bound on the quantile points: the smallest cumulative probability whose value reaches raw.
        int lo = 0, hi = _quantiles.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (_quantiles[mid] < raw) lo = mid + 1; else hi = mid;
        }
        if (lo == 0) return 1;
        double step = 1.0 / (_quantiles.Length - 1);
        double below = _quantiles[lo - 1], above = lo < _quantiles.Length ? _quantiles[lo] : below;
        double fraction = above > below ? (raw - below) / (above - below) : 0;
        double cdf = (lo - 1 + fraction) * step;
        return Math.Max(_tailMass, 1 - cdf);
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
        if (survival < _tailMass) return _tailStart - _tailScale * Math.Log(survival / _tailMass);
        double cdf = 1 - survival;
        double position = cdf * (_quantiles.Length - 1);
        int k = Math.Clamp((int)Math.Floor(position), 0, _quantiles.Length - 1);
        if (k >= _quantiles.Length - 1) return _quantiles[^1];
        return _quantiles[k] + (position - k) * (_quantiles[k + 1] - _quantiles[k]);
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
        writer.Write(_tailStart);
        writer.Write(_tailMass);
        writer.Write(_tailScale);
        writer.Write(_sampleSize);
    }

    public static ScoreCalibration ReadFrom(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count == 0)
        {
            reader.ReadDouble(); reader.ReadDouble(); reader.ReadDouble(); reader.ReadInt64();
            return Identity;
        }
        if (count < 2 || count > 1 << 20) throw new InvalidDataException($"calibration with {count} quantile points is not valid");
        var quantiles = new double[count];
        for (int k = 0; k < count; k++) quantiles[k] = reader.ReadDouble();
        for (int k = 1; k < count; k++)
            if (!(quantiles[k] >= quantiles[k - 1])) throw new InvalidDataException("calibration quantiles are not sorted");
        double start = reader.ReadDouble(), mass = reader.ReadDouble(), scale = reader.ReadDouble();
        long size = reader.ReadInt64();
        if (!(scale > 0) || !(mass > 0 && mass <= 1)) throw new InvalidDataException("calibration tail is not valid");
        return new ScoreCalibration(quantiles, start, mass, scale, size);
    }
}
