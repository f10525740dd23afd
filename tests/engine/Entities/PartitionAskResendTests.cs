using Akka.Actor;
using Akka.TestKit.Xunit;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Tests.Support;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Tests.Entities;

/// <summary>
/// Asks to a real partition (in-memory journal) whose answers come later than <c>routing.resend-after</c>, as on a
/// machine under heavy load: the copies sent again must not replace the first copy's answer.
/// </summary>
public sealed class PartitionAskResendTests : TestKit
{
    private static readonly long T0 = InMemoryPartitions.T0;

    public PartitionAskResendTests(ITestOutputHelper output)
        : base(InMemoryPartitions.Config, output: output)
    {
    }

    private static IngestedEvent Event(string user, long offset, string type = EventTypes.View, int? label = null) => InMemoryPartitions.Event(user, offset, type, label);

    /// <summary>
    /// The partition gets the first copy 250 ms late (resend-after 100 ms), the copies sent again queue behind it: the first
    /// is persisted and answered after its ask was given up, and the copies find its events persisted (replays). The stream took the
    /// last copy's answer: no requests, every event dropped from its ledger, while the partition held the users' requests
    /// as in flight; their later events waited behind them for ever (the stall under load, no settlement for good).
    /// </summary>
    [Fact]
    public async Task A_batch_answered_after_resend_after_gives_the_stream_the_first_copy_answer_with_its_requests_not_a_replay_answer()
    {
        const int id = 3;
        var inbox = CreateTestProbe();
        var partition = Sys.ActorOf(UserPartition.Props(id, UserPartitionSettings.Default with { WindowSize = 8 }));
        var slow = Sys.ActorOf(Props.Create(() => new SlowPartition(partition, TimeSpan.FromMilliseconds(250))));

        var batch = new PartitionBatch(id, [Event("a", 1), Event("b", 2)], inbox.Ref);
        var reply = await PartitionAsk.WithResendAsync<PartitionReply>(slow, batch, TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(100));

        Assert.Equal((2, 0), (reply.Accepted, reply.Duplicates));
        Assert.Empty(reply.DroppedKeys);
        Assert.Equal(["a", "b"], reply.Requests.Select(r => r.UserId).Order());

        // The requests are those the partition waits for: settling them is not stale.
        var settle = new SettleScoring(id, inbox.Ref, reply.Requests.Select(r =>
            new SettledUser(r.UserId, r.Ticket, r.EventCount, new ModelStateSlot("m@1", r.EventCount, [r.EventCount]), r.Alert, [])).ToList());
        var settled = await PartitionAsk.WithResendAsync<ScoringSettled>(slow, settle, TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(100));
        Assert.Empty(settled.Stale);

        // A user's next events are issued at once (nothing in flight any more).
        var next = await partition.Ask<PartitionReply>(new PartitionBatch(id, [Event("a", 3)], inbox.Ref), TimeSpan.FromSeconds(3));
        Assert.Equal("a", Assert.Single(next.Requests).UserId);
    }

    /// <summary>
    /// A partition slowed down (a loaded machine): the first message reaches it <c>firstDelay</c> late, and those sent
    /// meanwhile queue behind it (each passed on, keeping its sender, no earlier than 50 ms after the first).
    /// </summary>
    private sealed class SlowPartition : ReceiveActor
    {
        public SlowPartition(IActorRef partition, TimeSpan firstDelay)
        {
            DateTime? firstDue = null;
            ReceiveAny(message =>
            {
                TimeSpan delay;
                if (firstDue is { } due)
                {
                    delay = due + TimeSpan.FromMilliseconds(50) - DateTime.UtcNow;
                    if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
                }
                else
                {
                    firstDue = DateTime.UtcNow + firstDelay;
                    delay = firstDelay;
                }
                Context.System.Scheduler.ScheduleTellOnce(delay, partition, message, Sender);
            });
        }
    }
}
