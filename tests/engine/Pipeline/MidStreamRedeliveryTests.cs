using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using Akka.TestKit.Xunit;
using StreamDetect.Engine.Tests.Support;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Tests.Pipeline;

/// <summary>
/// A partition that recovered while the stream runs (in a cluster: its node was killed with kill -9) hands out the
/// alerts it journaled and never saw delivered. The dead node's output may have taken some of them (its delivery was
/// not journaled yet): they are checked against the output (<see cref="ScoringContext.RedeliveryCheck"/>) before they
/// go out again, and the batch's answer leaves the routing flow only after the check, so the stream cannot end first.
/// Seen in CI: a three-node run with node 3 killed at 3 s wrote 9 alerts with 8 unique ids.
/// </summary>
public sealed class MidStreamRedeliveryTests(ITestOutputHelper output) : TestKit(output: output)
{
    private static AlertRecord Alert(string id) => new(id, "u-" + id, 1_000, 1_000, 1, "{}"u8.ToArray());

    /// <summary>Answers every batch and close; the first batch's answer carries the recovered partition's undelivered alerts.</summary>
    private sealed class RecoveredPartition : ReceiveActor
    {
        public RecoveredPartition(IReadOnlyList<AlertRecord> undelivered)
        {
            bool first = true;
            Receive<PartitionBatch>(batch =>
            {
                var reply = new PartitionReply(batch.Partition, [], batch.Events.Count, 0, 0, false);
                Sender.Tell(first ? reply with { UndeliveredAlerts = undelivered } : reply);
                first = false;
            });
            Receive<CloseSessions>(close => Sender.Tell(new PartitionReply(close.Partition, [], 0, 0, 0, false)));
        }
    }

    [Fact]
    public async Task Alerts_a_recovered_partition_hands_out_mid_stream_are_checked_against_the_output_and_only_the_missing_ones_go_out_again()
    {
        var undelivered = new[] { Alert("written-before-the-kill"), Alert("never-written") };
        var partitions = Sys.ActorOf(Props.Create(() => new RecoveredPartition(undelivered)));
        var context = new ScoringContext(new DecisionLedger());
        var checkedAlerts = new TaskCompletionSource<IReadOnlyList<AlertRecord>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var outputAnswer = new TaskCompletionSource<IReadOnlyList<AlertRecord>>(TaskCreationOptions.RunContinuationsAsynchronously);
        context.RedeliveryCheck = alerts =>
        {
            checkedAlerts.TrySetResult(alerts);
            return outputAnswer.Task; // the output is being read back
        };
        var settings = EntityRoutingSettings.Default with { Partitions = 1, MaxBatch = 2, MaxWait = TimeSpan.FromMilliseconds(50), Parallelism = 4 };

        var probe = Source.From(TestTraffic.Interleaved(users: 1, eventsPerUser: 2))
            .Via(EntityRoutingFlow.Create(partitions, settings, context))
            .RunWith(this.SinkProbe<PartitionReply>(), Sys.Materializer());
        probe.Request(10);

        var handedOut = await checkedAlerts.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(undelivered.Select(a => a.AlertId), handedOut.Select(a => a.AlertId));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the answer waits for the check
        Assert.False(context.TryTakeRedelivery(out _));

        outputAnswer.SetResult([undelivered[1]]); // the output holds the first one
        Assert.Equal(2, probe.ExpectNext(TimeSpan.FromSeconds(10)).Accepted);
        Assert.True(context.TryTakeRedelivery(out var again));
        Assert.Equal("never-written", again.AlertId);
        Assert.False(context.TryTakeRedelivery(out _));
        probe.ExpectNext(TimeSpan.FromSeconds(10)); // the end-of-input close
        probe.ExpectComplete();
    }

    [Fact]
    public async Task Without_a_check_every_undelivered_alert_goes_out_again()
    {
        var undelivered = new[] { Alert("a"), Alert("b") };
        var partitions = Sys.ActorOf(Props.Create(() => new RecoveredPartition(undelivered)));
        var context = new ScoringContext(new DecisionLedger());
        var settings = EntityRoutingSettings.Default with { Partitions = 1, MaxBatch = 2, MaxWait = TimeSpan.FromMilliseconds(50) };

        await Source.From(TestTraffic.Interleaved(users: 1, eventsPerUser: 2))
            .Via(EntityRoutingFlow.Create(partitions, settings, context))
            .RunWith(Sink.Ignore<PartitionReply>(), Sys.Materializer())
            .WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        var again = new List<string>();
        while (context.TryTakeRedelivery(out var alert)) again.Add(alert.AlertId);
        Assert.Equal(["a", "b"], again);
    }
}
