using StreamDetect.Models.Dataset;
using StreamDetect.Models.Features;

namespace StreamDetect.Models.Training;

/// <summary>
/// Feature vectors of sampled events (rows, <see cref="FeatureSchema"/> columns), built by replaying
/// users through <see cref="UserBehaviorState"/> exactly as the stream does.
/// </summary>
public sealed class FeatureMatrix
{
    public FeatureMatrix(float[] values, int rows)
    {
        if (values.Length != (long)rows * FeatureSchema.Count)
            throw new ArgumentException($"{values.Length} values are not {rows} rows of {FeatureSchema.Count}", nameof(values));
        Values = values;
        Rows = rows;
    }

    /// <summary>Row-major values.</summary>
    public float[] Values { get; }

    public int Rows { get; }

    public static int Columns => FeatureSchema.Count;

    public ReadOnlySpan<float> Row(int row) => Values.AsSpan(row * Columns, Columns);

    /// <summary>
    /// Replays every user and keeps the features after about <paramref name="maxRows"/> events, each event
    /// kept with the same probability (a deterministic function of user, event and seed).
    /// </summary>
    public static FeatureMatrix Sample(BehaviorDataset data, int maxRows, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        double keep = Math.Min(1.0, (double)maxRows / Math.Max(1, data.EventCount));
        var perUser = new float[data.Users.Count][];
        Parallel.For(0, data.Users.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, u =>
        {
            var user = data.Users[u];
            var replay = user.StartReplay(data.WindowCapacity);
            var rows = new List<float>();
            var buffer = new float[Columns];
            while (replay.HasNext)
            {
                replay.Advance();
                if (replay.AtEndMarker) continue; // a marker's row is its session's last event's: no new row to learn
                if (keep >= 1 || Keep(u, replay.Position, seed) < keep)
                {
                    replay.WriteFeatures(buffer);
                    rows.AddRange(buffer);
                }
            }
            perUser[u] = rows.ToArray();
        });
        var values = perUser.SelectMany(r => r).ToArray();
        return new FeatureMatrix(values, values.Length / Columns);
    }

    private static double Keep(int user, int index, int seed)
    {
        ulong x = ((ulong)(uint)user << 32 | (uint)index) ^ (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (x >> 11) * (1.0 / (1UL << 53));
    }
}
