using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>
/// The one case where a run still reads its alert output back: after a crash, the partitions hand out the
/// alerts they journaled but never saw delivered. Most were never written (the engine died between the
/// journal and the output) and go out now; some were written but their delivery was not journaled yet
/// (a window of at most <c>entities.scored-marks-flush</c>). To emit those once, the output is searched
/// for exactly these ids — the alert file, or the last <c>alerts.read-back</c> records of each partition of
/// the alert topic — and only when there are any. Cooldowns and idempotence otherwise come from the
/// partitions' persisted state, never from the output.
/// </summary>
public static class EmittedAlerts
{
    /// <summary>The ids among <paramref name="wanted"/> that the alert file holds (none when it does not exist or is not a regular file).</summary>
    public static HashSet<string> InFile(string path, IReadOnlyCollection<string> wanted)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (wanted.Count == 0 || !File.Exists(path)) return found;
        var ids = wanted.ToHashSet(StringComparer.Ordinal);
        using (var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            if (!probe.CanSeek) return found; // a pipe or a device: nothing to read back
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length > 0 && EmittedAlert.Parse(System.Text.Encoding.UTF8.GetBytes(line)) is { } alert && ids.Contains(alert.AlertId))
                found.Add(alert.AlertId);
        }
        return found;
    }

    /// <summary>The ids among <paramref name="wanted"/> found in the last <paramref name="perPartition"/> records of each partition of the alert topic.</summary>
    public static HashSet<string> InTopic(KafkaProducerSettings producer, int perPartition, TimeSpan timeout, IReadOnlyCollection<string> wanted)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (wanted.Count == 0 || perPartition == 0) return found;
        var ids = wanted.ToHashSet(StringComparer.Ordinal);
        foreach (var alert in AlertTopicReader.RecentAlerts(producer, producer.AlertsTopic, perPartition, timeout))
            if (ids.Contains(alert.AlertId)) found.Add(alert.AlertId);
        return found;
    }
}
