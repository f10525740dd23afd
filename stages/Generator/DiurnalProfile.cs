namespace StreamDetect.Stages.Generator;

/// <summary>
/// The daily cycle of shopping: relative session-start intensity per hour of the (UTC) day, quiet at
/// night, a lunch bump and an evening peak, normalized to mean 1 so a user's sessions-per-day rate keeps
/// its meaning. Session starts are a non-homogeneous Poisson process drawn by thinning.
/// </summary>
internal sealed class DiurnalProfile
{
    private const long HourMs = 3_600_000;
    private const long DayMs = 24 * HourMs;

    private static readonly double[] RawHourly =
    [
        0.55, 0.35, 0.22, 0.15, 0.12, 0.15, 0.30, 0.55, 0.80, 0.95, 1.05, 1.15,
        1.30, 1.25, 1.10, 1.05, 1.10, 1.20, 1.35, 1.60, 1.80, 1.85, 1.50, 1.00,
    ];

    private readonly double[] _hourly;
    private readonly double _max;

    public static DiurnalProfile Default { get; } = new();

    private DiurnalProfile()
    {
        double mean = RawHourly.Average();
        _hourly = RawHourly.Select(w => w / mean).ToArray();
        _max = _hourly.Max();
    }

    /// <summary>Relative intensity at an epoch time (mean 1 over a day).</summary>
    public double Intensity(long epochMs) => _hourly[(int)(epochMs / HourMs % 24)];

    /// <summary>
    /// The first session start after <paramref name="fromMs"/> for a user with <paramref name="perDay"/>
    /// sessions per day on average, or <see cref="long.MaxValue"/> when none falls before <paramref name="endMs"/>.
    /// </summary>
    public long NextStart(long fromMs, long endMs, double perDay, Xoshiro256StarStar rng)
    {
        double meanGapMs = DayMs / (perDay * _max);
        double t = fromMs;
        while (true)
        {
            t += rng.Exponential(meanGapMs);
            if (t >= endMs) return long.MaxValue;
            long ms = (long)t;
            if (rng.NextDouble() * _max < Intensity(ms)) return ms;
        }
    }
}
