using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Stages.Tests.Generator;

public sealed class TrafficGeneratorSourceTests : IAsyncLifetime
{
    private readonly ActorSystem _system = ActorSystem.Create("generator-source-tests", "akka.loglevel = WARNING");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await _system.Terminate();

    [Fact]
    public async Task Source_must_not_run_ahead_of_demand()
    {
        var generator = new TrafficGenerator(new GeneratorSettings { Users = 500, Days = 2, Seed = 5 });
        var (killSwitch, queue) = generator.ToSource()
            .ViaMaterialized(KillSwitches.Single<UserEvent>(), Keep.Right)
            .ToMaterialized(Sink.Queue<UserEvent>(), Keep.Both)
            .Run(_system.Materializer());

        var pulled = new List<UserEvent>();
        for (int i = 0; i < 5; i++)
        {
            var next = await queue.PullAsync();
            Assert.True(next.HasValue);
            pulled.Add(next.Value);
        }
        await Task.Delay(500, TestContext.Current.CancellationToken);

        // Only the stream's small internal buffers may be filled ahead; the traffic is ~100k events.
        long produced = generator.Produced;
        Assert.InRange(produced, 5, 64);
        Assert.Equal(generator.Events().Take(5).Select(e => e.ToString()), pulled.Select(e => e.ToString()));
        killSwitch.Shutdown();
    }

    [Fact]
    public async Task Source_must_emit_the_whole_traffic_in_order_and_complete()
    {
        var settings = new GeneratorSettings { Users = 60, Days = 1, AnomalyRate = 0.2, Seed = 9 };
        var expected = new TrafficGenerator(settings).Events().Select(e => e.ToString() + e.Label).ToList();

        var events = await TrafficGenerator.AsSource(settings)
            .RunWith(Sink.Seq<UserEvent>(), _system.Materializer())
            .WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        Assert.Equal(expected, events.Select(e => e.ToString() + e.Label));
    }
}
