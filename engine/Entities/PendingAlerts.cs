using StreamDetect.Stages.Alerts;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// The alerts a partition has journaled but not yet seen delivered. After a crash the ones left are
/// emitted again (once); deliveries are journaled with the partition's next row.
/// </summary>
public sealed class PendingAlerts
{
    private readonly Dictionary<string, AlertRecord> _undelivered = new(StringComparer.Ordinal);
    private readonly List<string> _deliveredToJournal = [];

    public int Count => _undelivered.Count;

    public IEnumerable<AlertRecord> Undelivered => _undelivered.Values;

    /// <summary>An alert was journaled (live or during recovery).</summary>
    public void Journaled(AlertRecord alert) => _undelivered[alert.AlertId] = alert;

    /// <summary>The stream delivered these alerts: they are journaled as delivered with the next row.</summary>
    public void Delivered(IEnumerable<string> alertIds)
    {
        foreach (string id in alertIds)
            if (_undelivered.Remove(id)) _deliveredToJournal.Add(id);
    }

    /// <summary>A delivery read back during recovery.</summary>
    public void DeliveredRecovered(IEnumerable<string> alertIds)
    {
        foreach (string id in alertIds) _undelivered.Remove(id);
    }

    /// <summary>Whether deliveries wait to be journaled.</summary>
    public bool HasDeliveriesToJournal => _deliveredToJournal.Count > 0;

    /// <summary>The deliveries to journal now (then forgotten).</summary>
    public IReadOnlyList<string> TakeDeliveries()
    {
        if (_deliveredToJournal.Count == 0) return [];
        var ids = _deliveredToJournal.ToArray();
        _deliveredToJournal.Clear();
        return ids;
    }

    public void Restore(IEnumerable<AlertRecord> alerts)
    {
        _undelivered.Clear();
        foreach (var alert in alerts) _undelivered[alert.AlertId] = alert;
    }
}
