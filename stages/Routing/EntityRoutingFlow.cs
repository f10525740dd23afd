using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// Routes events to their user-partition entities with backpressure end to end: events are grouped
/// into micro-batches (max-batch or max-wait), each batch is split by partition (stream order kept
/// within a partition), and each part is sent with an ask; at most <c>parallelism</c> parts await
/// persistence at once, and replies are emitted in the order the parts were sent. A user's events
/// therefore reach its entity, and leave this flow, in stream order.
/// </summary>
public static class EntityRoutingFlow
{
    /// <param name="partitions">The shard region (or any actor) that routes a <see cref="PartitionBatch"/> to its entity.</param>
    public static Flow<IngestedEvent, PartitionReply, NotUsed> Create(IActorRef partitions, EntityRoutingSettings settings) =>
        Flow.Create<IngestedEvent>()
            .GroupedWithin(settings.MaxBatch, settings.MaxWait)
            .SelectMany(batch => Split(batch, settings.Partitions))
            .SelectAsync(settings.Parallelism, part => partitions.Ask<PartitionReply>(part, settings.AskTimeout))
            .Named("entity-routing");

    /// <summary>Splits a micro-batch by partition; parts come out in order of each partition's first event.</summary>
    public static IReadOnlyList<PartitionBatch> Split(IEnumerable<IngestedEvent> batch, int partitions)
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
        for (int i = 0; i < order.Count; i++) result[i] = new PartitionBatch(order[i], parts[order[i]]);
        return result;
    }
}
