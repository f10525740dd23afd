using System.Globalization;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Makes device ids ("ios-3fa9c210") and IPv4 addresses. Residential, mobile-carrier and datacenter
/// addresses come from disjoint first octets, so "a datacenter-like IP" is a property a feature can see.
/// The ranges are synthetic: they only need to be consistent within the generated data.
/// </summary>
internal static class NetworkIdentities
{
    private static readonly int[] ResidentialOctets = [24, 50, 67, 68, 71, 73, 75, 76, 86, 90, 98, 99, 108, 174, 183, 186, 189, 201];
    private static readonly int[] MobileOctets = [100, 107, 117, 166, 172];
    private static readonly int[] DatacenterOctets = [3, 13, 18, 34, 35, 52, 54, 104, 138, 139, 157, 159, 167, 206];

    /// <summary>Platforms with their shares among shoppers.</summary>
    private static readonly string[] Platforms = ["ios", "android", "web", "ipad"];
    private static readonly double[] PlatformCumulative = [0.35, 0.75, 0.95, 1.0];

    public static string RandomPlatform(Xoshiro256StarStar rng) => Platforms[rng.Pick(PlatformCumulative)];

    public static bool IsMobile(string device) =>
        device.StartsWith("ios-", StringComparison.Ordinal) || device.StartsWith("android-", StringComparison.Ordinal);

    public static string NewDevice(string platform, Xoshiro256StarStar rng) =>
        platform + "-" + ((uint)rng.NextUInt64()).ToString("x8", CultureInfo.InvariantCulture);

    public static string ResidentialIp(Xoshiro256StarStar rng) => Ip(ResidentialOctets, rng);
    public static string MobileIp(Xoshiro256StarStar rng) => Ip(MobileOctets, rng);
    public static string DatacenterIp(Xoshiro256StarStar rng) => Ip(DatacenterOctets, rng);

    public static bool IsDatacenter(string ip)
    {
        int dot = ip.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && int.TryParse(ip.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int first)
            && Array.IndexOf(DatacenterOctets, first) >= 0;
    }

    private static string Ip(int[] firstOctets, Xoshiro256StarStar rng) => string.Create(CultureInfo.InvariantCulture,
        $"{firstOctets[rng.NextInt(firstOctets.Length)]}.{rng.NextInt(256)}.{rng.NextInt(256)}.{1 + rng.NextInt(254)}");
}
