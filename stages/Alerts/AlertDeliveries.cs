using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// Tells the partitions which of their users' alerts the output has taken (written and flushed, or
/// acknowledged by the brokers): grouped per partition, at most every <c>maxWait</c>. The partitions
/// journal the deliveries; an alert not confirmed delivered when the engine dies is emitted again.
/// </summary>
public static class AlertDeliveries
{
    /// <param name="kafkaKeyed">Users are hashed to partitions by the Kafka key hash (<c>streamdetect.routing.colocate</c>).</param>
    public static Sink<AlertRecord, Task<Done>> Create(IActorRef partitions, int partitionCount, TimeSpan maxWait, bool kafkaKeyed = false) =>
        Flow.Create<AlertRecord>()
            .GroupedWithin(256, maxWait)
            .Select(group =>
            {
                foreach (var byPartition in group.GroupBy(a => UserPartitioner.PartitionOf(a.UserId, partitionCount, kafkaKeyed)))
                    partitions.Tell(new AlertsDelivered(byPartition.Key, byPartition.Select(a => a.AlertId).ToArray()));
                return NotUsed.Instance;
            })
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Right)
            .Named("alert-deliveries");
}
