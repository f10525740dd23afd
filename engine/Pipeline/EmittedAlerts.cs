using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// The alert ids an output already held when the run started. After a crash the partitions score
/// again what was never confirmed scored; an alert that had gone out before the crash comes again with
/// the same id and is dropped here, so the output gets each alert once. Counts what it dropped.
/// </summary>
public sealed class EmittedAlerts
{
    private readonly HashSet<string> _ids;
    private long _suppressed;

    private EmittedAlerts(IReadOnlyList<EmittedAlert> alerts)
    {
        Alerts = alerts;
        _ids = alerts.Select(a => a.AlertId).ToHashSet(StringComparer.Ordinal);
    }

    public static EmittedAlerts None { get; } = new([]);

    /// <summary>The alerts read back (their times restart the users' cooldowns).</summary>
    public IReadOnlyList<EmittedAlert> Alerts { get; }

    /// <summary>Ids read back from the output.</summary>
    public int Known => _ids.Count;

    /// <summary>Alerts of this run dropped because the output held them already.</summary>
    public long Suppressed => Interlocked.Read(ref _suppressed);

    /// <summary>False (and counted) for an alert the output holds already.</summary>
    public bool IsNew(Alert alert)
    {
        if (_ids.Count == 0 || !_ids.Contains(alert.AlertId)) return true;
        Interlocked.Increment(ref _suppressed);
        return false;
    }

    /// <summary>The ids of the alerts in a JSON Lines alert file (none when it does not exist).</summary>
    public static EmittedAlerts FromFile(string path)
    {
        var alerts = new List<EmittedAlert>();
        if (!File.Exists(path)) return new EmittedAlerts(alerts);
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length > 0 && EmittedAlert.Parse(System.Text.Encoding.UTF8.GetBytes(line)) is { } alert) alerts.Add(alert);
        }
        return new EmittedAlerts(alerts);
    }

    /// <summary>The ids among the last <paramref name="perPartition"/> records of each partition of the alert topic.</summary>
    public static EmittedAlerts FromKafka(KafkaProducerSettings producer, int perPartition, TimeSpan timeout) =>
        new(AlertTopicReader.RecentAlerts(producer, producer.AlertsTopic, perPartition, timeout));
}
