using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit;
using StreamDetect.Engine.Tests.Support;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Engine.Tests.Pipeline;

/// <summary>
/// A batch its partition never answers (the partition's node died with it) is sent again after routing.resend-after;
/// with routing.one-batch-per-partition the next batch for that partition waits, so the resent one cannot arrive after
/// it (a partition drops events at or below the highest source position it persisted).
/// </summary>
public sealed class EntityRoutingResendTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public EntityRoutingResendTests(ITestOutputHelper output)
        : base(output: output)
    {
        _output = output;
    }

    /// <summary>Loses the first batch it gets (as a dead node would), answers everything else; records what arrives.</summary>
    private sealed class LosingPartitions : ReceiveActor
    {
        public LosingPartitions(List<long> arrivals)
        {
            bool lost = false;
            Receive<PartitionBatch>(batch =>
            {
                lock (arrivals) arrivals.Add(batch.Events[0].Position.Offset);
                if (!lost)
                {
                    lost = true;
                    return;
                }
                Sender.Tell(new PartitionReply(batch.Partition, [], batch.Events.Count, 0, 0, false));
            });
            Receive<CloseSessions>(close => Sender.Tell(new PartitionReply(close.Partition, [], 0, 0, 0, false)));
        }
    }

    private async Task<(List<long> Arrivals, List<PartitionReply> Replies)> RunAsync(bool onePerPartition)
    {
        var events = TestTraffic.Interleaved(users: 2, eventsPerUser: 3); // 6 events, offsets in input order
        var arrivals = new List<long>();
        var partitions = Sys.ActorOf(Props.Create(() => new LosingPartitions(arrivals)));
        var settings = EntityRoutingSettings.Default with
        {
            Partitions = 1,
            MaxBatch = 2,
            MaxWait = TimeSpan.FromSeconds(1),
            Parallelism = 8,
            AskTimeout = TimeSpan.FromSeconds(30),
            ResendAfter = TimeSpan.FromMilliseconds(500),
            OnePerPartition = onePerPartition,
        };
        var replies = await Source.From(events)
            .Via(EntityRoutingFlow.Create(partitions, settings))
            .RunWith(Sink.Seq<PartitionReply>(), Sys.Materializer())
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return (arrivals, replies.ToList());
    }

    [Fact]
    public async Task A_lost_batch_is_sent_again_and_with_one_batch_per_partition_the_next_batch_waits_for_its_answer()
    {
        var (arrivals, replies) = await RunAsync(onePerPartition: true);
        _output.WriteLine($"arrivals (first offset of each batch): {string.Join(", ", arrivals)}");
        Assert.Equal(6, replies.Where(r => r.Partition == 0).Sum(r => r.Accepted)); // every batch answered, the lost one after its resend
        Assert.Equal(arrivals[0], arrivals[1]); // the resend comes before any later batch
        Assert.Equal(arrivals.Skip(1).Order(), arrivals.Skip(1)); // and the partition sees the source positions in order
    }

    [Fact]
    public async Task Without_one_batch_per_partition_later_batches_overtake_the_resent_one()
    {
        // What one-batch-per-partition prevents: the partition has seen later positions when the resend arrives.
        var (arrivals, replies) = await RunAsync(onePerPartition: false);
        _output.WriteLine($"arrivals (first offset of each batch): {string.Join(", ", arrivals)}");
        Assert.Equal(6, replies.Where(r => r.Partition == 0).Sum(r => r.Accepted));
        Assert.Equal(arrivals[0], arrivals[^1]);
    }
}
