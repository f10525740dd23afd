namespace StreamDetect.Stages.Generator;

/// <summary>
/// Which independent random stream each part of the generator draws from (see
/// <see cref="Xoshiro256StarStar.ForStream"/>). Users get 0..users-1; the shared parts live far above.
/// </summary>
internal static class StreamIds
{
    public const ulong Planner = 1UL << 40;
    public const ulong Catalog = (1UL << 40) + 1;

    public static ulong User(int index) => (ulong)index;

    public static ulong CouponRing(int ring) => (1UL << 41) + (ulong)ring;
}
