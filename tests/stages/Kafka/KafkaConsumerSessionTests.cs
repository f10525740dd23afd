using Akka.Event;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

/// <summary>The session's control paths that never reach a broker (the broker paths are in tests/integration/Kafka).</summary>
public sealed class KafkaConsumerSessionTests
{
    // Nothing listens here: a consumer started by mistake would only log connection errors, so each test
    // checks that none was started (no join, IsShutdown completed without a poll thread).
    private static KafkaConsumerSession Session() => new(KafkaConsumerSettings.Create("127.0.0.1:9", "g", "events"), committable: true);

    [Fact]
    public async Task Session_stopped_before_the_stage_started_must_complete_the_stage_without_a_consumer_and_close_on_shutdown()
    {
        var session = Session();
        await session.Stop();
        int stopped = 0;
        session.Start(NoLogger.Instance, () => { }, () => stopped++, _ => Assert.Fail("no failure expected"));
        Assert.Equal(1, stopped);
        Assert.False(session.TryTake(out _));
        Assert.True(session.RequestCommit().IsCompleted); // nothing to commit
        Assert.False(session.IsShutdown.IsCompleted, "Stop alone keeps the session until Shutdown");

        await session.Shutdown().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(session.IsShutdown.IsCompletedSuccessfully);
        Assert.False(session.Joined);
        Assert.Empty(session.Assignment);
    }

    [Fact]
    public async Task Session_shut_down_before_the_stage_started_must_be_closed_at_once_and_never_start_a_consumer()
    {
        var session = Session();
        await session.Shutdown().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        int stopped = 0;
        session.Start(NoLogger.Instance, () => { }, () => stopped++, _ => Assert.Fail("no failure expected"));
        Assert.Equal(1, stopped);
        Assert.True(session.RequestCommit().IsCompleted);
        await session.Stop(); // nothing left to stop
        session.OnStageStopped();
        Assert.True(session.IsShutdown.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Session_whose_stage_stops_before_it_started_must_close()
    {
        var session = Session();
        session.OnStageStopped();
        await session.IsShutdown.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }
}
