using Akka.Actor;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// The alerts a partition has journaled but not yet seen delivered, each with the stream that took it for delivery
/// (its scoring inbox, journaled as an actor path). After a recovery an alert is handed out again only once that stream
/// is known to be gone: a stream still alive elsewhere in the cluster holds the alert (in its ordered release, or in
/// its output's hands) and will report it delivered; handing it to another stream too would emit it twice.
/// Deliveries are journaled with the partition's next row.
/// </summary>
public sealed class PendingAlerts
{
    private readonly Dictionary<string, Pending> _undelivered = new(StringComparer.Ordinal);
    private readonly List<string> _deliveredToJournal = [];

    private sealed class Pending(AlertRecord alert, string? origin, IActorRef? stream)
    {
        public AlertRecord Alert { get; } = alert;

        /// <summary>The delivering stream's scoring inbox as a serialized actor path (with its uid); null: unknown (journaled by an older version).</summary>
        public string? Origin { get; } = origin;

        /// <summary>The delivering stream, once known alive (live settlement, or identified after a recovery); null otherwise.</summary>
        public IActorRef? Stream { get; set; } = stream;

        /// <summary>Its stream is gone (or unknown): the alert is to be handed out again.</summary>
        public bool Due { get; set; }
    }

    public int Count => _undelivered.Count;

    public IEnumerable<AlertRecord> Undelivered => _undelivered.Values.Select(p => p.Alert);

    /// <summary>The undelivered alerts' origins, in the order of <see cref="Undelivered"/>.</summary>
    public IEnumerable<string?> Origins => _undelivered.Values.Select(p => p.Origin);

    /// <summary>An alert was journaled: live (<paramref name="stream"/> is the settling inbox) or during recovery (null).</summary>
    public void Journaled(AlertRecord alert, string? origin, IActorRef? stream = null) => _undelivered[alert.AlertId] = new Pending(alert, origin, stream);

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

    /// <summary>
    /// Recovery is complete: alerts without a known origin are due at once; returns the origins whose streams must be
    /// looked up (<see cref="OriginAlive"/> or <see cref="OriginGone"/>).
    /// </summary>
    public IReadOnlyList<string> Recovered()
    {
        var origins = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in _undelivered.Values)
        {
            if (p.Origin is { } origin) origins.Add(origin);
            else p.Due = true;
        }
        return [.. origins.Order(StringComparer.Ordinal)];
    }

    /// <summary>The stream behind <paramref name="origin"/> answered: its alerts stay with it.</summary>
    public void OriginAlive(string origin, IActorRef stream)
    {
        foreach (var p in _undelivered.Values)
            if (p.Origin == origin && !p.Due) p.Stream = stream;
    }

    /// <summary>The stream behind <paramref name="origin"/> is gone (no answer, or another incarnation): its alerts are due.</summary>
    public int OriginGone(string origin)
    {
        int due = 0;
        foreach (var p in _undelivered.Values)
        {
            if (p.Origin != origin || p.Due || p.Stream is not null) continue;
            p.Due = true;
            due++;
        }
        return due;
    }

    /// <summary>A stream's inbox terminated: the alerts it held for delivery are due. Returns how many.</summary>
    public int StreamGone(IActorRef gone)
    {
        int due = 0;
        foreach (var p in _undelivered.Values)
        {
            if (p.Due || !Equals(p.Stream, gone)) continue;
            p.Due = true;
            p.Stream = null;
            due++;
        }
        return due;
    }

    /// <summary>Whether alerts are due to be handed out again.</summary>
    public bool AnyDue => _undelivered.Values.Any(p => p.Due);

    /// <summary>
    /// The due alerts in output order, handed to <paramref name="stream"/>: no longer due, pending until delivered, and
    /// due again if that stream goes too.
    /// </summary>
    public List<AlertRecord> TakeDue(IActorRef? stream)
    {
        var due = new List<AlertRecord>();
        foreach (var p in _undelivered.Values)
        {
            if (!p.Due) continue;
            p.Due = false;
            p.Stream = stream;
            due.Add(p.Alert);
        }
        due.Sort(AlertRecord.OutputOrder);
        return due;
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

    /// <summary>From a snapshot: the alerts and their origins (null where the snapshot has none).</summary>
    public void Restore(IReadOnlyList<AlertRecord> alerts, IReadOnlyList<string?> origins)
    {
        _undelivered.Clear();
        for (int i = 0; i < alerts.Count; i++) _undelivered[alerts[i].AlertId] = new Pending(alerts[i], i < origins.Count ? origins[i] : null, null);
    }
}
