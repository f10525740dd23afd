using Akka.Actor;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Partitions;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// Everything a partition owns about one user: behaviour (window, features, model state), alert state,
/// how far the user's events are scored, the unscored ones, and whether a request is in flight.
/// </summary>
public sealed class UserRecord
{
    public UserRecord(UserBehaviorState behavior)
    {
        Behavior = behavior;
    }

    public UserBehaviorState Behavior { get; }

    /// <summary>Cooldown, last alert, segment and open day (the decider's per-user state).</summary>
    public UserAlertState Alert { get; set; } = UserAlertState.None;

    /// <summary>The user's events confirmed scored (the first ScoredThrough of them).</summary>
    public long ScoredThrough { get; set; }

    /// <summary>The events persisted but not yet confirmed scored; null when there are none.</summary>
    public ScoringTail? Tail { get; set; }

    /// <summary>The request in flight (<see cref="RequestTicket.None"/> when none). Not persisted: after recovery nothing is in flight.</summary>
    public RequestTicket InFlight { get; set; }

    /// <summary>
    /// The scoring inbox the request in flight went to (null: unknown, e.g. the stream that asked named none). When that
    /// stream's node is gone the request is issued again to a live stream (<see cref="PartitionState.StreamGone"/>). Not persisted.
    /// </summary>
    public IActorRef? InFlightInbox { get; set; }

    /// <summary>The ticket of the user's last settled request: a copy of its settlement (sent again, unanswered in time) is no stale one.</summary>
    public RequestTicket LastSettled { get; set; }

    /// <summary>The user's event count when the request in flight was issued.</summary>
    public long IssuedThrough { get; set; }

    /// <summary>The scoring inbox of the stream that delivered the user's newest unscored events.</summary>
    public IActorRef? Inbox { get; set; }

    /// <summary>Order keys of unscored events another stream delivered, which the stream issued the next request must admit.</summary>
    public List<long>? AdmitKeys { get; set; }

    public bool HasRequestInFlight => InFlight != RequestTicket.None;

    /// <summary>
    /// Ground truth of the open session: the highest label of its events (-1: none labelled). Its end marker
    /// carries it (a session is anomalous when any of its events is); evaluation only.
    /// </summary>
    public sbyte SessionLabel { get; set; } = -1;

    /// <summary>Whether the user is in its partition's queue of open sessions the watermark may close (not persisted: rebuilt).</summary>
    internal bool InIdleQueue { get; set; }
}
