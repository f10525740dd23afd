namespace StreamDetect.Stages.Generator;

/// <summary>
/// Which independent random stream each part of the generator draws from (see
/// <see cref="Xoshiro256StarStar.ForStream"/>). Users get 0..users-1; the shared parts live far above.
/// </summary>
internal static class StreamIds
{
    public const ulong Planner = 1UL << 40;
    public const ulong Catalog = (1UL << 40) + 1;

    /// <summary>Who adopts the drift scenario's release (drawn only when it is on).</summary>
    public const ulong Release = (1UL << 40) + 2;

    /// <summary>Who poisons slowly, and when each strikes (drawn only when poisoning is on).</summary>
    public const ulong Poisoning = (1UL << 40) + 3;

    public static ulong User(int index) => (ulong)index;

    public static ulong CouponRing(int ring) => (1UL << 41) + (ulong)ring;
}
