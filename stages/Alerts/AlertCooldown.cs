namespace StreamDetect.Stages.Alerts;

/// <summary>
/// One alert per user per episode: after an alert, the same user is not alerted again until the
/// cooldown has passed in event time (so replays and batch sizes give the same alerts).
/// </summary>
public sealed class AlertCooldown(TimeSpan cooldown)
{
    private readonly Dictionary<string, long> _lastAlertMs = new(StringComparer.Ordinal);
    private readonly long _cooldownMs = (long)cooldown.TotalMilliseconds;

    /// <summary>Whether an alert for the user at this event time is allowed; records it when it is.</summary>
    public bool TryAlert(string userId, long eventMs)
    {
        if (_lastAlertMs.TryGetValue(userId, out long last) && eventMs - last < _cooldownMs) return false;
        _lastAlertMs[userId] = eventMs;
        if (_lastAlertMs.Count > 2_000_000) Forget(eventMs);
        return true;
    }

    /// <summary>Records an alert made before (read back after a restart): the user's cooldown runs from it.</summary>
    public void Remember(string userId, long eventMs)
    {
        if (!_lastAlertMs.TryGetValue(userId, out long last) || eventMs > last) _lastAlertMs[userId] = eventMs;
    }

    private void Forget(long nowMs)
    {
        foreach (var (user, last) in _lastAlertMs.ToList())
            if (nowMs - last >= _cooldownMs) _lastAlertMs.Remove(user);
    }
}
