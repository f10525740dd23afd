using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// Routes events to their user-partition entities with backpressure end to end: events are grouped
/// into micro-batches (max-batch or max-wait), each batch is split by partition (stream order kept
/// within a partition), and each part is sent with an ask; at most <c>parallelism</c> parts await
/// persistence at once, and replies are emitted in the order the parts were sent. A user's events
/// therefore reach its entity, and leave this flow, in stream order.
/// <para>
/// With a <see cref="ScoringContext"/> the events are to be scored: the parts name the stream's scoring
/// inbox, replayed events the partitions dropped leave the decision ledger, and alerts a recovered
/// partition never saw delivered are handed to the alert release.
/// </para>
/// </summary>
public static class EntityRoutingFlow
{
    /// <param name="partitions">The shard region (or any actor) that routes a <see cref="PartitionBatch"/> to its entity.</param>
    /// <param name="scoring">The stream's scoring loop, or null for an ingest-only run.</param>
    /// <param name="closeSessionsAtEnd">
    /// Asked when the events end: whether the input ended (a file read to its end, <c>--stop-after-idle</c>), so every
    /// partition closes its open sessions at the stream's last watermark (<see cref="CloseSessions"/>) before the
    /// flow completes; their answers (the end markers' requests) follow the last batch's. Null: always.
    /// </param>
    public static Flow<IngestedEvent, PartitionReply, NotUsed> Create(IActorRef partitions, EntityRoutingSettings settings, ScoringContext? scoring = null,
        Func<bool>? closeSessionsAtEnd = null)
    {
        var watermark = new Watermark();
        // Per partition, the ask the next part must wait for (settings.OnePerPartition); SelectAsync calls in order, on one thread.
        var previous = settings.OnePerPartition ? new Task?[settings.Partitions] : null;
        return Flow.Create<IngestedEvent>()
            .Select(e =>
            {
                watermark.Observe(e.OrderKey != 0 ? e.OrderKey : e.Event.TimestampMs);
                return e;
            })
            .GroupedWithin(settings.MaxBatch, settings.MaxWait)
            .SelectMany(batch => Split(batch, settings, scoring?.Inbox))
            .SelectAsync(settings.Parallelism, part =>
            {
                if (previous is null) return AskAsync(partitions, part, settings, scoring, after: null);
                var ask = AskAsync(partitions, part, settings, scoring, previous[part.Partition]);
                previous[part.Partition] = ask;
                return ask;
            })
            // The end of the events: a marker element (Concat materializes and pulls its second source at once, so the
            // close itself must wait for the element to come through).
            .Concat(Source.Single(EndOfEvents))
            .SelectAsync(1, reply => ReferenceEquals(reply, EndOfEvents)
                ? CloseAllAsync(partitions, settings, scoring, watermark, closeSessionsAtEnd)
                : Task.FromResult<IReadOnlyList<PartitionReply>>([reply]))
            .SelectMany(replies => replies)
            .Named("entity-routing");
    }

    /// <param name="after">The previous ask to the same partition, sent only once it is answered (null: at once).</param>
    private static async Task<PartitionReply> AskAsync(IActorRef partitions, PartitionBatch part, EntityRoutingSettings settings, ScoringContext? scoring, Task? after)
    {
        // Folding the batch may close sessions (end markers keyed at or above its smallest key): until their keys are
        // admitted below, no threshold interval and no alert release may pass that key.
        long reserved = 0;
        if (scoring is not null)
        {
            reserved = long.MaxValue;
            foreach (var e in part.Events) reserved = Math.Min(reserved, e.OrderKey);
            scoring.Ledger.Reserve(reserved);
        }
        if (after is { IsCompleted: false })
        {
            try
            {
                await after.ConfigureAwait(false);
            }
            catch
            {
                // its failure fails the stream by itself
            }
        }
        var reply = await AskWithResendAsync(partitions, part, settings);
        if (scoring is not null)
        {
            foreach (long key in reply.DroppedKeys) scoring.Ledger.Dropped(key);
            scoring.Ledger.AdmitKeys(reply.MarkerKeys);
            scoring.Ledger.Release(reserved);
            if (reply.DroppedKeys.Count > 0 || reply.Requests.Count == 0) scoring.WakeAll();
            if (reply.UndeliveredAlerts.Count > 0) await scoring.AddCheckedRedeliveriesAsync(reply.UndeliveredAlerts).ConfigureAwait(false);
        }
        List<object>? acks = null;
        foreach (var e in part.Events)
        {
            if (e.Ack is null) continue;
            (acks ??= new List<object>(part.Events.Count)).Add(e.Ack);
        }
        return acks is null ? reply : reply with { Acks = acks };
    }

    private static readonly PartitionReply EndOfEvents = new(-1, [], 0, 0, 0, false);

    private static async Task<IReadOnlyList<PartitionReply>> CloseAllAsync(IActorRef partitions, EntityRoutingSettings settings, ScoringContext? scoring,
        Watermark watermark, Func<bool>? closeSessionsAtEnd)
    {
        if (!watermark.Seen || !(closeSessionsAtEnd?.Invoke() ?? true)) return [];
        var closes = Enumerable.Range(0, settings.Partitions)
            .Select(p => CloseAsync(partitions, new CloseSessions(p, watermark.Value, scoring?.Inbox), settings, scoring));
        return await Task.WhenAll(closes);
    }

    private static async Task<PartitionReply> CloseAsync(IActorRef partitions, CloseSessions close, EntityRoutingSettings settings, ScoringContext? scoring)
    {
        scoring?.Ledger.Reserve(close.WatermarkMs);
        var reply = await AskWithResendAsync(partitions, close, settings);
        if (scoring is not null)
        {
            scoring.Ledger.AdmitKeys(reply.MarkerKeys);
            scoring.Ledger.Release(close.WatermarkMs);
            if (reply.Requests.Count == 0) scoring.WakeAll();
            if (reply.UndeliveredAlerts.Count > 0) await scoring.AddCheckedRedeliveriesAsync(reply.UndeliveredAlerts).ConfigureAwait(false);
        }
        return reply;
    }

    /// <summary>
    /// Asks a partition, sending the message again each <see cref="EntityRoutingSettings.ResendAfter"/> without an answer,
    /// until <see cref="EntityRoutingSettings.AskTimeout"/>. A message to a partition whose node died (kill -9) is lost;
    /// once the cluster has downed that node, sharding starts the partition elsewhere, it recovers from the journal and
    /// drops the events it already persisted, so sending again is safe. Every copy is sent from one ask: the first answer
    /// to any copy is the answer (<see cref="PartitionAsk"/>).
    /// </summary>
    private static Task<PartitionReply> AskWithResendAsync(IActorRef partitions, object message, EntityRoutingSettings settings) =>
        PartitionAsk.WithResendAsync<PartitionReply>(partitions, message, settings.AskTimeout, settings.ResendAfter);

    /// <summary>The largest order key (event time for an ingest-only run) the stream has routed: its event-time watermark.</summary>
    private sealed class Watermark
    {
        private long _value = long.MinValue;

        public bool Seen { get; private set; }

        public long Value => Volatile.Read(ref _value);

        public void Observe(long key)
        {
            Seen = true;
            if (key > _value) Volatile.Write(ref _value, key);
        }
    }

    /// <summary>Splits a micro-batch by partition; parts come out in order of each partition's first event.</summary>
    public static IReadOnlyList<PartitionBatch> Split(IEnumerable<IngestedEvent> batch, int partitions, IActorRef? scoringInbox = null) =>
        Split(batch, EntityRoutingSettings.Default with { Partitions = partitions }, scoringInbox);

    /// <summary>Splits a micro-batch by partition under <paramref name="settings"/> (count and hash); parts come out in order of each partition's first event.</summary>
    public static IReadOnlyList<PartitionBatch> Split(IEnumerable<IngestedEvent> batch, EntityRoutingSettings settings, IActorRef? scoringInbox = null)
    {
        var parts = new Dictionary<int, List<IngestedEvent>>();
        var order = new List<int>();
        foreach (var e in batch)
        {
            int p = UserPartitioner.PartitionOf(e.Event.UserId, settings);
            if (!parts.TryGetValue(p, out var list))
            {
                list = new List<IngestedEvent>();
                parts[p] = list;
                order.Add(p);
            }
            list.Add(e);
        }
        var result = new PartitionBatch[order.Count];
        for (int i = 0; i < order.Count; i++) result[i] = new PartitionBatch(order[i], parts[order[i]], scoringInbox);
        return result;
    }
}
