namespace StreamDetect.Stages.Thresholds;

/// <summary>
/// A streaming quantile over calibrated scores: a fixed-resolution histogram on [0, max) with
/// exponential forgetting, so it follows the recent score distribution. Cheap (one bin update per
/// sample), deterministic, and exact to the bin width (0.005 on the calibrated -log10 scale).
/// </summary>
public sealed class ScoreHistogram
{
    private readonly double[] _bins;
    private readonly double _width;
    private readonly double _decay;
    private double _total;
    private double _scale = 1.0; // weight of the next sample; grows by 1/decay per sample instead of decaying every bin

    /// <param name="max">Scores at or above go to the last bin.</param>
    /// <param name="width">Bin width.</param>
    /// <param name="halfLife">After this many samples, older samples weigh half (0 = never forget).</param>
    public ScoreHistogram(double max = 12, double width = 0.005, double halfLife = 0)
    {
        _width = width;
        _bins = new double[(int)Math.Ceiling(max / width) + 1];
        _decay = halfLife > 0 ? Math.Pow(0.5, 1.0 / halfLife) : 1.0;
    }

    /// <summary>The effective sample size (with forgetting applied).</summary>
    public double Count => _decay < 1.0 ? _total / (_scale * _decay) : _total;

    /// <summary>Samples ever added.</summary>
    public long Added { get; private set; }

    public void Add(double score)
    {
        if (!double.IsFinite(score)) return;
        Insert(score, _scale);
        if (_decay < 1.0)
        {
            _scale /= _decay;
            if (_scale > 1e100) Renormalise();
        }
        Added++;
    }

    /// <summary>The smallest score s such that the weight of samples at or above s is at most <paramref name="upperFraction"/>.</summary>
    public double UpperQuantile(double upperFraction)
    {
        if (_total <= 0) throw new InvalidOperationException("no samples");
        double allowed = upperFraction * _total;
        double above = 0;
        for (int i = _bins.Length - 1; i >= 0; i--)
        {
            if (above + _bins[i] > allowed) return (i + 1) * _width;
            above += _bins[i];
        }
        return 0;
    }

    private void Insert(double score, double weight)
    {
        int bin = score <= 0 ? 0 : (int)Math.Min(_bins.Length - 1, score / _width);
        _bins[bin] += weight;
        _total += weight;
    }

    private void Renormalise()
    {
        double factor = 1.0 / _scale;
        for (int i = 0; i < _bins.Length; i++) _bins[i] *= factor;
        _total *= factor;
        _scale = 1.0;
    }
}
