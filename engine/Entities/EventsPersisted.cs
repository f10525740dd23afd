using StreamDetect.Stages.Alerts;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// The journal event of a user partition: the events of one incoming batch that were not replays, in
/// stream order, with whatever else the partition must not lose since its previous row — scoring
/// confirmations, the alerts it decided to emit (journaled before they leave the engine) and the alerts
/// the stream delivered. One journal row holds all of it (rows per second, not events, is what the store
/// can sustain); see README "Persistence".
/// </summary>
/// <param name="Events">The batch's new events (none in a row that only carries marks or alerts).</param>
/// <param name="AwaitingScoring">
/// Whether a scorer will confirm these events (a run with a model). Events of a row without it (an
/// ingest-only run, or a row written before this field existed) count as scored.
/// </param>
/// <param name="Scored">Scoring confirmations received since the partition's previous row.</param>
public sealed record EventsPersisted(IReadOnlyList<PersistedEvent> Events, bool AwaitingScoring = false, IReadOnlyList<ScoredMark>? Scored = null)
{
    public IReadOnlyList<ScoredMark> Marks => Scored ?? [];

    /// <summary>Alerts decided for this partition's users, journaled before they are emitted.</summary>
    public IReadOnlyList<AlertRecord> Alerts { get; init; } = [];

    /// <summary>
    /// The scoring inbox of the stream that settled <see cref="Alerts"/> and will deliver them, as a serialized actor path
    /// (with its uid); null when the row has no alerts, or was written before this field existed.
    /// </summary>
    public string? AlertsOrigin { get; init; }

    /// <summary>Ids of alerts the stream has delivered since the previous row.</summary>
    public IReadOnlyList<string> Delivered { get; init; } = [];

    /// <summary>
    /// The input ended at this watermark (<see cref="Stages.Partitions.CloseSessions"/>): every session still open
    /// closes here, its end marker keyed by it. Journaled, so a recovery closes the same sessions; null otherwise.
    /// </summary>
    public long? SessionsClosedAtMs { get; init; }
}
