using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Partitions;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// What a user partition hands to the stream for scoring: every event of the user not scored yet, with
/// what the model and the alert decisions need, as the partition owns it. A user has at most one request
/// in flight; events arriving meanwhile wait in the partition and become the next request once this one
/// is settled (<see cref="SettleScoring"/>), so the model state and alert state a request carries are
/// always those after the user's previous event.
/// </summary>
/// <param name="UserId">The user.</param>
/// <param name="Partition">The user's partition (where the request is settled).</param>
/// <param name="Window">Up to the window size of the user's events before the new ones, then every new event; oldest first.</param>
/// <param name="NewEvents">How many of the newest <paramref name="Window"/> entries are unscored (at least 1).</param>
/// <param name="Features">The feature vector as of each new event, row-major (NewEvents x <see cref="FeatureSchema.Count"/>).</param>
/// <param name="State">The model state after the user's previous event (null when none: the model rebuilds it from the window).</param>
/// <param name="EventCount">The user's total events, including the new ones.</param>
/// <param name="FirstEventMs">Time of the user's first event (epoch ms), to tell new from established users.</param>
/// <param name="OrderKeys">The order key of each new event (the decision order, see <c>DecisionLedger</c>).</param>
/// <param name="Alert">The user's alert state after its previous event.</param>
/// <param name="Ticket">Names the request; the settlement quotes it.</param>
public sealed record ScoringRequest(
    string UserId,
    int Partition,
    WindowEntry[] Window,
    int NewEvents,
    float[] Features,
    ModelStateSlot? State,
    long EventCount,
    long FirstEventMs,
    long[] OrderKeys,
    UserAlertState Alert,
    RequestTicket Ticket)
{
    /// <summary>Ground-truth label of each new event (-1 where unlabelled), for evaluation only; never a model input. Null: none labelled.</summary>
    public sbyte[]? Labels { get; init; }

    /// <summary>The <c>device</c> field of each new event (null entries: none given); null when no new event has one. For the alert's context only.</summary>
    public string?[]? Devices { get; init; }

    /// <summary>The <c>ip</c> field of each new event (null entries: none given); null when no new event has one. For the alert's context only.</summary>
    public string?[]? Ips { get; init; }

    /// <summary>Earliest <c>IngestedEvent.ReceivedTicks</c> among the new events (for latency); 0 when unknown (after a restart).</summary>
    public long ReceivedTicks { get; init; }

    /// <summary>
    /// Order keys the receiving stream must add to its decision ledger before deciding: events it did not
    /// read itself (rescored after a crash, or handed over from another stream). Null: none.
    /// </summary>
    public long[]? AdmitKeys { get; init; }

    /// <summary>
    /// The pooled arrays the request is built from, given back by the scoring loop's last reader (see
    /// <see cref="ScoringRequestArrays"/>); null: not pooled (read back from the wire, cut, built by a test). A cut
    /// request does not carry it: its arrays are its own copies.
    /// </summary>
    public ScoringRequestArrays? Pooled { get; init; }

    /// <summary>
    /// The request cut to its first <paramref name="count"/> new events (the same ticket: settled, it confirms them and
    /// the partition sends the rest as the user's next request). Keys to admit are not carried: they were admitted.
    /// </summary>
    public ScoringRequest Cut(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, NewEvents);
        if (count == NewEvents) return this;
        int drop = NewEvents - count;
        int features = Math.Min(Features.Length, count * FeatureSchema.Count);
        return new ScoringRequest(UserId, Partition, Window[..^drop], count, Features[..features], State, EventCount - drop, FirstEventMs,
            OrderKeys[..count], Alert, Ticket)
        {
            Labels = Labels?[..count],
            Devices = Devices?[..count],
            Ips = Ips?[..count],
            ReceivedTicks = ReceivedTicks,
        };
    }

    /// <summary>Index in <see cref="Window"/> of the first new event.</summary>
    public int FirstNewIndex => Window.Length - NewEvents;

    /// <summary>The user's event number (1 = first) of new event <paramref name="i"/>.</summary>
    public long EventIndexOf(int i) => EventCount - NewEvents + 1 + i;

    /// <summary>Time of the newest event (epoch ms).</summary>
    public long LastEventMs => Window.Length == 0 ? 0 : Window[^1].TimestampMs;

    /// <summary>Highest label among the new events (null: none labelled).</summary>
    public int? Label
    {
        get
        {
            if (Labels is null) return null;
            int max = -1;
            foreach (sbyte l in Labels) max = Math.Max(max, l);
            return max < 0 ? null : max;
        }
    }
}
