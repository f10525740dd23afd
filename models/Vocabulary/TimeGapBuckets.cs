namespace StreamDetect.Models.Vocabulary;

/// <summary>
/// Buckets of the time since the user's previous event, on a log-like scale from sub-second (bots)
/// to days (returning customers). Fixed, not learned: time has the same units in every dataset.
/// Bucket 0 marks the user's first event, bucket 1 an event whose predecessor is not known (the
/// oldest entry of a window that no longer starts at the user's first event).
/// </summary>
public static class TimeGapBuckets
{
    public const int FirstEvent = 0;
    public const int UnknownPrevious = 1;

    // Upper edges in seconds of buckets 2, 3, ...; a gap beyond the last edge gets the last bucket.
    private static readonly double[] Edges = [0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 900, 3600, 6 * 3600, 86400];

    /// <summary>Number of buckets, the two markers included.</summary>
    public static int Count => Edges.Length + 3;

    public static int Of(long gapMs)
    {
        double seconds = Math.Max(0, gapMs) / 1000.0;
        for (int i = 0; i < Edges.Length; i++)
            if (seconds < Edges[i]) return i + 2;
        return Edges.Length + 2;
    }

    /// <summary>A readable name of a bucket, for explanations.</summary>
    public static string Describe(int bucket) => bucket switch
    {
        FirstEvent => "first event",
        UnknownPrevious => "unknown gap",
        _ when bucket - 2 < Edges.Length => $"<{Edges[bucket - 2]}s",
        _ => $">={Edges[^1]}s",
    };
}
