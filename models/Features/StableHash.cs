using System.Text;

namespace StreamDetect.Models.Features;

/// <summary>
/// A deterministic 32-bit string hash (FNV-1a over UTF-16 code units). Unlike string.GetHashCode it
/// is the same in every process, so hashed ids can be persisted and compared across restarts.
/// </summary>
public static class StableHash
{
    public static int Of(string? value)
    {
        if (value is null) return 0;
        uint hash = 2166136261;
        foreach (char c in value)
        {
            hash = (hash ^ (byte)c) * 16777619;
            hash = (hash ^ (byte)(c >> 8)) * 16777619;
        }
        return hash == 0 ? 1 : (int)hash; // 0 is reserved for "absent"
    }
}
