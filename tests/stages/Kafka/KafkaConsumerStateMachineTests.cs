using StreamDetect.Stages.Kafka;
using static StreamDetect.Stages.Kafka.KafkaConsumerState;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class KafkaConsumerStateMachineTests
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(10);

    private static TimeSpan Ms(double milliseconds) => T0 + TimeSpan.FromMilliseconds(milliseconds);

    /// <summary>A machine driven through its real transitions to <paramref name="state"/>.</summary>
    private static KafkaConsumerStateMachine Machine(string state) => Machine(Enum.Parse<KafkaConsumerState>(state));

    private static KafkaConsumerStateMachine Machine(KafkaConsumerState state)
    {
        var machine = new KafkaConsumerStateMachine(PollTimeout);
        switch (state)
        {
            case Created:
                break;
            case Stopped:
                Assert.True(machine.Stop());
                break;
            case Joining:
                Assert.True(machine.Start());
                break;
            case Consuming:
                Assert.True(machine.Start());
                machine.Assigned();
                break;
            case Paused:
                Assert.True(machine.Start());
                machine.Assigned();
                Assert.Equal(PollStepKind.Wait, machine.Next(bufferFull: true, T0).Kind);
                Assert.Equal(PollStep.Poll(TimeSpan.Zero, paused: true), machine.Next(bufferFull: true, T0 + PollTimeout));
                break;
            case Draining:
                Assert.True(machine.Start());
                machine.Assigned();
                Assert.True(machine.Stop());
                break;
            case ShuttingDown:
                Assert.True(machine.Start());
                machine.Assigned();
                Assert.True(machine.Shutdown());
                break;
            case Closed:
                Assert.True(machine.Start());
                machine.ConsumerClosed();
                break;
        }
        Assert.Equal(state, machine.State);
        return machine;
    }

    [Fact]
    public void StateMachine_must_start_joining_and_consume_once_the_group_assigns_partitions()
    {
        var machine = Machine(Created);
        Assert.False(machine.Emitting);
        Assert.True(machine.Start());
        Assert.Equal(Joining, machine.State);
        Assert.False(machine.Joined);
        Assert.True(machine.Emitting);
        Assert.Equal(PollStep.Poll(PollTimeout, paused: false), machine.Next(bufferFull: false, T0));

        machine.Assigned();
        Assert.Equal(Consuming, machine.State);
        Assert.True(machine.Joined);
        Assert.Equal(PollStep.Poll(PollTimeout, paused: false), machine.Next(bufferFull: false, T0));
        machine.Assigned(); // a later rebalance changes nothing
        Assert.Equal(Consuming, machine.State);
    }

    [Theory]
    [InlineData(nameof(Joining))]
    [InlineData(nameof(Consuming))]
    [InlineData(nameof(Paused))]
    [InlineData(nameof(Draining))]
    [InlineData(nameof(ShuttingDown))]
    public void StateMachine_must_refuse_to_start_twice(string state)
    {
        var machine = Machine(state);
        Assert.Throws<InvalidOperationException>(() => machine.Start());
        Assert.Equal(Enum.Parse<KafkaConsumerState>(state), machine.State);
    }

    [Fact]
    public void StateMachine_stopped_before_the_stage_started_must_never_start_a_consumer_and_close_on_shutdown()
    {
        var machine = Machine(Stopped);
        Assert.False(machine.Emitting);
        Assert.False(machine.Start()); // the stage completes; no poll thread
        Assert.Equal(Stopped, machine.State);
        Assert.False(machine.RequestCommit()); // nothing to commit: answered at once
        Assert.False(machine.Stop());
        Assert.True(machine.Shutdown());
        Assert.Equal(Closed, machine.State);
    }

    [Fact]
    public void StateMachine_shut_down_before_the_stage_started_must_be_closed_at_once()
    {
        var machine = Machine(Created);
        Assert.True(machine.Shutdown());
        Assert.Equal(Closed, machine.State);
        Assert.False(machine.Start());
        Assert.False(machine.Shutdown());
        Assert.False(machine.Stop());
        Assert.False(machine.RequestCommit());
    }

    [Fact]
    public void StateMachine_must_wait_a_poll_timeout_for_room_before_pausing()
    {
        var machine = Machine(Consuming);
        Assert.Equal(PollStep.Wait(PollTimeout), machine.Next(bufferFull: true, Ms(0)));
        Assert.Equal(PollStep.Wait(TimeSpan.FromMilliseconds(30)), machine.Next(bufferFull: true, Ms(20))); // woken early: the rest of the wait
        Assert.Equal(Consuming, machine.State);

        Assert.Equal(PollStep.Poll(TimeSpan.Zero, paused: true), machine.Next(bufferFull: true, Ms(50)));
        Assert.Equal(Paused, machine.State);
        Assert.True(machine.Emitting); // what is buffered still goes out
    }

    [Fact]
    public void StateMachine_whose_buffer_gets_room_within_the_poll_timeout_must_not_pause_and_must_wait_a_whole_timeout_next_time()
    {
        var machine = Machine(Consuming);
        Assert.Equal(PollStepKind.Wait, machine.Next(bufferFull: true, Ms(0)).Kind);
        Assert.Equal(PollStep.Poll(PollTimeout, paused: false), machine.Next(bufferFull: false, Ms(40)));
        Assert.Equal(Consuming, machine.State);
        Assert.Equal(PollStep.Wait(PollTimeout), machine.Next(bufferFull: true, Ms(45)));
    }

    [Fact]
    public void StateMachine_paused_must_poll_paused_once_a_poll_timeout_and_resume_as_soon_as_there_is_room()
    {
        var machine = Machine(Paused); // paused by the poll at T0 + 50 ms
        Assert.Equal(PollStep.Wait(TimeSpan.FromMilliseconds(40)), machine.Next(bufferFull: true, Ms(60)));
        Assert.Equal(PollStep.Poll(TimeSpan.Zero, paused: true), machine.Next(bufferFull: true, Ms(100))); // serves the group
        Assert.Equal(PollStep.Wait(PollTimeout), machine.Next(bufferFull: true, Ms(100)));
        Assert.Equal(Paused, machine.State);

        Assert.Equal(PollStep.Poll(PollTimeout, paused: false), machine.Next(bufferFull: false, Ms(110)));
        Assert.Equal(Consuming, machine.State);
    }

    [Theory]
    [InlineData(nameof(Joining))]
    [InlineData(nameof(Consuming))]
    [InlineData(nameof(Paused))]
    public void StateMachine_stopped_must_pause_at_once_then_poll_once_a_poll_timeout_without_spinning(string from)
    {
        var machine = Machine(from);
        Assert.True(machine.Stop());
        Assert.Equal(Draining, machine.State);
        Assert.False(machine.Emitting);
        Assert.False(machine.Stop());

        Assert.Equal(PollStep.Poll(TimeSpan.Zero, paused: true), machine.Next(bufferFull: false, Ms(500)));
        Assert.Equal(PollStep.Wait(PollTimeout), machine.Next(bufferFull: false, Ms(500))); // no busy loop
        Assert.Equal(PollStep.Wait(TimeSpan.FromMilliseconds(1)), machine.Next(bufferFull: false, Ms(549)));
        Assert.Equal(PollStep.Poll(TimeSpan.Zero, paused: true), machine.Next(bufferFull: false, Ms(550)));
        Assert.Equal(Draining, machine.State);
    }

    [Fact]
    public void StateMachine_draining_must_serve_a_commit_request_at_once_and_stay_in_the_group()
    {
        var machine = Machine(Draining);
        Assert.Equal(PollStepKind.Poll, machine.Next(bufferFull: false, Ms(0)).Kind);
        Assert.True(machine.RequestCommit());
        Assert.Equal(PollStep.Commit, machine.Next(bufferFull: false, Ms(10)));
        Assert.False(machine.CommitRequested);
        Assert.Equal(PollStep.Wait(TimeSpan.FromMilliseconds(40)), machine.Next(bufferFull: false, Ms(10)));
        machine.Assigned(); // a rebalance while draining keeps it draining
        Assert.Equal(Draining, machine.State);
    }

    [Fact]
    public void StateMachine_must_commit_before_polling_and_retry_a_refused_commit_after_the_delay()
    {
        var machine = Machine(Consuming);
        Assert.True(machine.RequestCommit());
        Assert.True(machine.RequestCommit()); // requests coalesce
        Assert.Equal(PollStep.Commit, machine.Next(bufferFull: false, Ms(0)));
        Assert.Equal(PollStepKind.Poll, machine.Next(bufferFull: false, Ms(0)).Kind);

        machine.CommitFailed(Ms(0));
        var retry = KafkaFaultSettings.Default.RetryDelay(1);
        Assert.Equal(PollStepKind.Poll, machine.Next(bufferFull: false, Ms(0) + retry - TimeSpan.FromMilliseconds(1)).Kind);
        Assert.Equal(PollStep.Commit, machine.Next(bufferFull: false, Ms(0) + retry));
        Assert.Equal(PollStepKind.Poll, machine.Next(bufferFull: false, Ms(0) + retry).Kind); // retried once, not again
    }

    [Fact]
    public void StateMachine_must_double_the_wait_after_each_refused_commit_up_to_the_maximum_hold_requests_meanwhile_and_start_over_after_an_accepted_one()
    {
        var faults = KafkaFaultSettings.Default.WithRetryBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(350));
        var machine = new KafkaConsumerStateMachine(PollTimeout, faults);
        machine.Start();
        machine.Assigned();
        var now = Ms(0);
        foreach (int wait in new[] { 100, 200, 350, 350 })
        {
            machine.CommitFailed(now);
            Assert.Equal(PollStepKind.Poll, machine.Next(bufferFull: false, now + TimeSpan.FromMilliseconds(wait - 1)).Kind);
            now += TimeSpan.FromMilliseconds(wait);
            Assert.Equal(PollStep.Commit, machine.Next(bufferFull: false, now));
        }
        Assert.Equal(4, machine.CommitFailures);

        // A request while backing off waits for the retry (and is answered by it).
        machine.CommitFailed(now);
        Assert.True(machine.RequestCommit());
        Assert.Equal(PollStepKind.Poll, machine.Next(bufferFull: false, now + TimeSpan.FromMilliseconds(349)).Kind);
        now += TimeSpan.FromMilliseconds(350);
        Assert.Equal(PollStep.Commit, machine.Next(bufferFull: false, now));
        Assert.Equal(PollStepKind.Poll, machine.Next(bufferFull: false, now).Kind);

        machine.CommitSucceeded();
        machine.CommitFailed(now);
        Assert.Equal(PollStep.Commit, machine.Next(bufferFull: false, now + TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public void StateMachine_waiting_must_wake_for_a_commit_retry_that_falls_due()
    {
        var machine = Machine(Draining);
        Assert.Equal(PollStepKind.Poll, machine.Next(bufferFull: false, Ms(0)).Kind);
        machine.CommitFailed(Ms(0) + TimeSpan.FromMilliseconds(20) - KafkaFaultSettings.Default.RetryDelay(1)); // due at 20 ms
        Assert.Equal(PollStep.Wait(TimeSpan.FromMilliseconds(20)), machine.Next(bufferFull: false, Ms(0)));
        Assert.Equal(PollStep.Commit, machine.Next(bufferFull: false, Ms(20)));
    }

    [Theory]
    [InlineData(nameof(Joining))]
    [InlineData(nameof(Consuming))]
    [InlineData(nameof(Paused))]
    [InlineData(nameof(Draining))]
    public void StateMachine_shut_down_must_leave_the_poll_loop_before_anything_else(string from)
    {
        var machine = Machine(from);
        machine.RequestCommit();
        machine.Fail(new InvalidOperationException("fatal"));
        Assert.True(machine.Shutdown());
        Assert.Equal(ShuttingDown, machine.State);
        Assert.True(machine.IsLeaving);
        Assert.False(machine.Emitting);
        Assert.Equal(PollStep.Close, machine.Next(bufferFull: false, Ms(0)));
        Assert.False(machine.Shutdown());
        Assert.False(machine.Stop());
        Assert.True(machine.RequestCommit()); // answered by the final commit

        machine.ConsumerClosed();
        Assert.Equal(Closed, machine.State);
        Assert.False(machine.CommitRequested);
        Assert.False(machine.RequestCommit());
        Assert.False(machine.Shutdown());
    }

    [Fact]
    public void StateMachine_must_end_the_poll_loop_with_the_first_fatal_error()
    {
        var machine = Machine(Consuming);
        var first = new InvalidOperationException("first");
        machine.Fail(first);
        machine.Fail(new InvalidOperationException("second"));
        machine.RequestCommit();
        Assert.Equal(PollStep.Fail, machine.Next(bufferFull: false, Ms(0)));
        Assert.Same(first, machine.Failure);
        machine.ConsumerClosed();
        Assert.Equal(Closed, machine.State);
    }

    [Theory]
    [InlineData(nameof(Consuming), true)]
    [InlineData(nameof(Paused), true)]
    [InlineData(nameof(Draining), true)]
    [InlineData(nameof(ShuttingDown), false)]
    public void StateMachine_revocation_must_wait_for_records_in_flight_unless_the_consumer_is_leaving(string state, bool waits)
    {
        var machine = Machine(state);
        Assert.False(machine.Revoking);
        Assert.Equal(waits, machine.BeginRevocation());
        Assert.True(machine.Revoking);
        Assert.Equal(Enum.Parse<KafkaConsumerState>(state), machine.State); // a revocation is not a state: it returns to where it was
        machine.EndRevocation();
        Assert.False(machine.Revoking);
    }

    [Fact]
    public void StateMachine_revocation_wait_must_be_cut_short_by_a_shutdown()
    {
        var machine = Machine(Consuming);
        Assert.True(machine.BeginRevocation());
        Assert.False(machine.IsLeaving);
        machine.Shutdown();
        Assert.True(machine.IsLeaving);
    }
}
