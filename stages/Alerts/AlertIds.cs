using System.Security.Cryptography;
using System.Text;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// Deterministic alert ids: the same user, alerting event (its number among the user's events and its
/// time) and model version always give the same id, so an alert re-emitted after a replay is recognisably
/// the same alert (consumers de-duplicate on it).
/// </summary>
public static class AlertIds
{
    public static string For(string userId, long eventIndex, long timeMs, string modelKey)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{userId}\n{eventIndex}\n{timeMs}\n{modelKey}"), hash);
        return "al-" + Convert.ToHexStringLower(hash[..12]);
    }
}
