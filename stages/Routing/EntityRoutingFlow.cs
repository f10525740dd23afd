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
    public static Flow<IngestedEvent, PartitionReply, NotUsed> Create(IActorRef partitions, EntityRoutingSettings settings, ScoringContext? scoring = null) =>
        Flow.Create<IngestedEvent>()
            .GroupedWithin(settings.MaxBatch, settings.MaxWait)
            .SelectMany(batch => Split(batch, settings.Partitions, scoring?.Inbox))
            .SelectAsync(settings.Parallelism, part => AskAsync(partitions, part, settings.AskTimeout, scoring))
            .Named("entity-routing");

    private static async Task<PartitionReply> AskAsync(IActorRef partitions, PartitionBatch part, TimeSpan timeout, ScoringContext? scoring)
    {
        var reply = await partitions.Ask<PartitionReply>(part, timeout);
        if (scoring is not null)
        {
            foreach (long key in reply.DroppedKeys) scoring.Ledger.Dropped(key);
            if (reply.DroppedKeys.Count > 0) scoring.WakeAll();
            if (reply.UndeliveredAlerts.Count > 0) scoring.AddRedeliveries(reply.UndeliveredAlerts);
        }
        List<object>? acks = null;
        foreach (var e in part.Events)
        {
            if (e.Ack is null) continue;
            (acks ??= new List<object>(part.Events.Count)).Add(e.Ack);
        }
        return acks is null ? reply : reply with { Acks = acks };
    }

    /// <summary>Splits a micro-batch by partition; parts come out in order of each partition's first event.</summary>
    public static IReadOnlyList<PartitionBatch> Split(IEnumerable<IngestedEvent> batch, int partitions, IActorRef? scoringInbox = null)
    {
        var parts = new Dictionary<int, List<IngestedEvent>>();
        var order = new List<int>();
        foreach (var e in batch)
        {
            int p = UserPartitioner.PartitionOf(e.Event.UserId, partitions);
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
