namespace StreamDetect.Models.Online;

/// <summary>
/// The bounded set of samples a fine-tuning round learns from: traffic samples in a reservoir of
/// <see cref="OnlineLearningOptions.BufferSize"/> (Vitter's algorithm R: every sample offered so far is kept with the same
/// probability), analyst false-alarm labels in their own reservoir, and caps per user, per device and per IP over both,
/// so that no actor or botnet dominates what is learned. Not thread-safe.
/// </summary>
public sealed class OnlineSampleBuffer
{
    private readonly List<OnlineSample> _traffic = [];
    private readonly List<OnlineSample> _falseAlarms = [];
    private readonly Dictionary<string, int> _perUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perDevice = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perIp = new(StringComparer.Ordinal);
    private readonly OnlineLearningOptions _options;
    private readonly bool _capped;
    private readonly Random _random;
    private long _trafficSeen;
    private long _falseAlarmsSeen;

    /// <param name="capped">Whether the per-user, per-device and per-IP caps apply (off only with guards = off).</param>
    public OnlineSampleBuffer(OnlineLearningOptions options, Random random, bool capped = true)
    {
        _options = options;
        _random = random;
        _capped = capped;
    }

    /// <summary>Traffic samples kept.</summary>
    public int TrafficCount => _traffic.Count;

    /// <summary>False-alarm labels kept.</summary>
    public int FalseAlarmCount => _falseAlarms.Count;

    public int Count => _traffic.Count + _falseAlarms.Count;

    /// <summary>Every kept sample: traffic, then false-alarm labels.</summary>
    public IReadOnlyList<OnlineSample> Samples => [.. _traffic, .. _falseAlarms];

    /// <summary>Samples kept for a user.</summary>
    public int CountOf(string userId) => _perUser.GetValueOrDefault(userId);

    /// <summary>Keeps <paramref name="sample"/> or says why not (a cap, or the reservoir's draw).</summary>
    public GuardVerdict Add(OnlineSample sample)
    {
        bool falseAlarm = sample.Source == OnlineSampleSource.FalseAlarmLabel;
        var slots = falseAlarm ? _falseAlarms : _traffic;
        int capacity = falseAlarm ? _options.MaxFalseAlarmLabels : _options.BufferSize;
        if (capacity == 0) return GuardVerdict.FalseAlarmCap;
        long seen = falseAlarm ? ++_falseAlarmsSeen : ++_trafficSeen;
        int replace = -1;
        if (slots.Count >= capacity)
        {
            long draw = _random.NextInt64(seen);
            if (draw >= capacity) return falseAlarm ? GuardVerdict.FalseAlarmCap : GuardVerdict.NotSampled;
            replace = (int)draw;
        }
        var victim = replace >= 0 ? slots[replace] : null;
        if (_capped && Capped(sample, victim) is GuardVerdict cap)
        {
            // A capped sample is not part of the stream the reservoir samples.
            if (falseAlarm) _falseAlarmsSeen--; else _trafficSeen--;
            return cap;
        }
        if (victim is not null)
        {
            Track(victim, -1);
            slots[replace] = sample;
        }
        else slots.Add(sample);
        Track(sample, +1);
        return GuardVerdict.Admitted;
    }

    /// <summary>
    /// Removes the traffic samples older than <paramref name="cutoffMs"/> (event time; false-alarm labels stay) and
    /// restarts the reservoir's count from the samples kept, so the samples offered next fill the room first: the
    /// buffer holds recent traffic. Returns how many were removed.
    /// </summary>
    public int ForgetBefore(long cutoffMs)
    {
        int kept = 0, removed = 0;
        for (int i = 0; i < _traffic.Count; i++)
        {
            var sample = _traffic[i];
            if (sample.EventTimeMs < cutoffMs)
            {
                Track(sample, -1);
                removed++;
            }
            else _traffic[kept++] = sample;
        }
        _traffic.RemoveRange(kept, _traffic.Count - kept);
        if (removed > 0) _trafficSeen = _traffic.Count;
        return removed;
    }

    /// <summary>Removes every sample of a user (late feedback); returns how many.</summary>
    public int Purge(string userId)
    {
        int removed = 0;
        foreach (var slots in new[] { _traffic, _falseAlarms })
        {
            for (int i = slots.Count - 1; i >= 0; i--)
            {
                if (slots[i].UserId != userId) continue;
                Track(slots[i], -1);
                // Order inside a reservoir carries nothing: the last sample fills the hole.
                slots[i] = slots[^1];
                slots.RemoveAt(slots.Count - 1);
                removed++;
            }
        }
        return removed;
    }

    /// <summary>The cap <paramref name="sample"/> would break once <paramref name="leaving"/> (the sample it replaces) has left.</summary>
    private GuardVerdict? Capped(OnlineSample sample, OnlineSample? leaving)
    {
        if (Over(_perUser, sample.UserId, leaving?.UserId, _options.MaxPerUser)) return GuardVerdict.UserCap;
        if (Over(_perDevice, sample.Device, leaving?.Device, _options.MaxPerDevice)) return GuardVerdict.DeviceCap;
        if (Over(_perIp, sample.Ip, leaving?.Ip, _options.MaxPerIp)) return GuardVerdict.IpCap;
        return null;
    }

    private static bool Over(Dictionary<string, int> counts, string? key, string? leavingKey, int cap)
    {
        if (key is null) return false;
        int count = counts.GetValueOrDefault(key) - (leavingKey == key ? 1 : 0);
        return count >= cap;
    }

    private void Track(OnlineSample sample, int delta)
    {
        Add(_perUser, sample.UserId, delta);
        Add(_perDevice, sample.Device, delta);
        Add(_perIp, sample.Ip, delta);
    }

    private static void Add(Dictionary<string, int> counts, string? key, int delta)
    {
        if (key is null) return;
        int count = counts.GetValueOrDefault(key) + delta;
        if (count == 0) counts.Remove(key); else counts[key] = count;
    }
}
