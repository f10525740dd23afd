namespace StreamDetect.Models.Detection;

/// <summary>
/// Per-thread float buffers for a detector's scoring pass, kept and grown rather than rented: a batch's buffers are
/// large (1,024 rows of a 55-feature schema is 220 KB, on the large object heap), and the shared array pool missed
/// often enough here to cost ~870 bytes an event, end to end (bench, ensemble). A scoring pass is synchronous on one
/// thread, so each slot is used by one pass at a time; a detector that calls another must not use the same slot.
/// </summary>
internal static class ThreadScratch
{
    [ThreadStatic] private static float[]? t_scaled;
    [ThreadStatic] private static float[]? t_contributions;
    [ThreadStatic] private static float[]? t_augmented;
    [ThreadStatic] private static float[]? t_ranking;

    /// <summary>The feature rows, scaled (<see cref="FeatureDetector"/>).</summary>
    public static float[] Scaled(int length) => Get(ref t_scaled, length);

    /// <summary>The per-feature contributions (<see cref="FeatureDetector"/>).</summary>
    public static float[] Contributions(int length) => Get(ref t_contributions, length);

    /// <summary>The kNN detector's augmented rows.</summary>
    public static float[] Augmented(int length) => Get(ref t_augmented, length);

    /// <summary>The kNN detector's ranking block.</summary>
    public static float[] Ranking(int length) => Get(ref t_ranking, length);

    /// <summary>At least <paramref name="length"/> floats, not cleared (grown to a power of two).</summary>
    private static float[] Get(ref float[]? slot, int length)
    {
        if (slot is null || slot.Length < length) slot = new float[(int)Math.Min(Array.MaxLength, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 1024)))];
        return slot;
    }
}
