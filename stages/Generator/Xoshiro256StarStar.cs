using System.Numerics;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64. The generator's only source of
/// randomness: <see cref="System.Random"/>'s algorithm is not specified across runtimes, and this one is,
/// so a seed gives byte-identical traffic everywhere. Each user (and the catalog, the planner, each
/// coupon ring) draws from its own stream, so one user's draws never shift another's.
/// </summary>
internal sealed class Xoshiro256StarStar
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareGaussian;
    private bool _hasSpare;

    public Xoshiro256StarStar(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>The independent stream <paramref name="stream"/> of generator seed <paramref name="seed"/>.</summary>
    public static Xoshiro256StarStar ForStream(int seed, ulong stream)
    {
        ulong x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL);
        ulong mixed = SplitMix64(ref x) ^ unchecked(stream * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL);
        return new Xoshiro256StarStar(mixed);
    }

    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="n"/>) (multiply-high; bias below 2^-32 for any n used here).</summary>
    public int NextInt(int n)
    {
        ulong high = Math.BigMul(NextUInt64(), (ulong)n, out _);
        return (int)high;
    }

    /// <summary>Uniform integer in [<paramref name="min"/>, <paramref name="max"/>], both included.</summary>
    public int Between(int min, int max) => min + NextInt(max - min + 1);

    /// <summary>Uniform in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    public double Uniform(double min, double max) => min + (max - min) * NextDouble();

    public bool Chance(double probability) => NextDouble() < probability;

    /// <summary>Standard normal (Marsaglia's polar method; the second value is kept for the next call).</summary>
    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareGaussian;
        }
        double u, v, s;
        do
        {
            u = 2.0 * NextDouble() - 1.0;
            v = 2.0 * NextDouble() - 1.0;
            s = u * u + v * v;
        }
        while (s >= 1.0 || s == 0.0);
        double factor = Math.Sqrt(-2.0 * Math.Log(s) / s);
        _spareGaussian = v * factor;
        _hasSpare = true;
        return u * factor;
    }

    /// <summary>Log-normal with the given median and log-space standard deviation.</summary>
    public double LogNormal(double median, double sigma) => median * Math.Exp(sigma * NextGaussian());

    /// <summary>Exponential with the given mean.</summary>
    public double Exponential(double mean) => -mean * Math.Log(1.0 - NextDouble());

    /// <summary>An index drawn from cumulative weights (last entry = total).</summary>
    public int Pick(ReadOnlySpan<double> cumulative)
    {
        double x = NextDouble() * cumulative[^1];
        for (int i = 0; i < cumulative.Length - 1; i++)
        {
            if (x < cumulative[i]) return i;
        }
        return cumulative.Length - 1;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
