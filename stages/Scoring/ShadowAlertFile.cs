using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Ordering;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// The shadow output (issue 11): the alerts a shadow model would have raised, as JSON Lines, never the alert sink. They
/// are written in the alerts' output order (order key, user, event, id) once every event up to their key is decided,
/// so the file is the same on every run. The file is created (anew) at the first shadow alert of the run: a run
/// without a shadow leaves none. Without a path the alerts are only counted. Used on the decision stage's thread.
/// </summary>
public sealed class ShadowAlertFile : IDisposable
{
    private static readonly IComparer<AlertRecord> Order = Comparer<AlertRecord>.Create((a, b) =>
    {
        int c = AlertRecord.OutputOrder.Compare(a, b);
        return c != 0 ? c : string.CompareOrdinal(a.AlertId, b.AlertId);
    });

    private readonly SortedSet<AlertRecord> _pending = new(Order);
    private FileStream? _file;

    /// <param name="path">The JSONL file, or null: count only.</param>
    public ShadowAlertFile(string? path)
    {
        Path = path;
    }

    public string? Path { get; }

    /// <summary>Shadow alerts decided so far.</summary>
    public long Alerts { get; private set; }

    /// <summary>Shadow alerts written to the file so far.</summary>
    public long Written { get; private set; }

    public void Add(IReadOnlyList<AlertRecord> alerts)
    {
        foreach (var alert in alerts)
            if (_pending.Add(alert)) Alerts++;
    }

    /// <summary>Writes the alerts that no alert decided later can sort before (every event up to their key is decided).</summary>
    public void Flush(DecisionLedger ledger)
    {
        if (_pending.Count == 0) return;
        bool wrote = false;
        while (_pending.Count > 0 && ledger.AllDecidedBefore(_pending.Min!.OrderKey + 1))
        {
            var alert = _pending.Min!;
            _pending.Remove(alert);
            Write(alert);
            wrote = true;
        }
        if (wrote) _file?.Flush();
    }

    /// <summary>Writes every alert left (the decisions are over).</summary>
    public void Complete()
    {
        foreach (var alert in _pending) Write(alert);
        _pending.Clear();
        _file?.Flush();
    }

    private void Write(AlertRecord alert)
    {
        if (Path is null) return;
        try
        {
            _file ??= new FileStream(Path, FileMode.Create, FileAccess.Write, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"shadow alerts: cannot write '{Path}': {e.Message}", e);
        }
        _file.Write(alert.Json);
        _file.WriteByte((byte)'\n');
        Written++;
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }
}
