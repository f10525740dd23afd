using System.Text;

namespace StreamDetect.Engine.Online;

/// <summary>
/// A request's sampling priority in [0, 1): a 64-bit FNV-1a hash of (user, order key), so which decided requests the
/// trainer keeps depends on the input alone, never on the order they were decided in.
/// </summary>
public static class SamplePriority
{
    public static double Of(string userId, long orderKey)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(userId)) hash = (hash ^ b) * 1099511628211UL;
        for (int i = 0; i < 8; i++) hash = (hash ^ (byte)(orderKey >> (8 * i))) * 1099511628211UL;
        // A final mix, so nearby keys spread over the whole range.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return (hash >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>Whether the request is among the <paramref name="share"/> kept.</summary>
    public static bool Kept(string userId, long orderKey, double share) => share >= 1 || Of(userId, orderKey) < share;
}
