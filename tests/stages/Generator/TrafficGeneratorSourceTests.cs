using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using Akka.TestKit.Xunit;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Stages.Tests.Generator;

public sealed class TrafficGeneratorSourceTests : TestKit
{
    public TrafficGeneratorSourceTests(ITestOutputHelper output)
        : base("akka.loglevel = WARNING", output)
    {
    }

    [Fact]
    public async Task Source_must_not_run_ahead_of_demand()
    {
        var generator = new TrafficGenerator(new GeneratorSettings { Users = 500, Days = 2, Seed = 5 });
        var downstream = generator.ToSource().RunWith(TestSink.SinkProbe<UserEvent>(this), Sys.Materializer());

        downstream.Request(5);
        var pulled = await downstream.ExpectNextNAsync(5).ToListAsync();
        // No element without demand, for as long as a run-ahead would need to show...
        await downstream.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        // ...and only the stream's small internal buffers may be filled ahead; the traffic is ~100k events.
        Assert.InRange(generator.Produced, 5, 64);
        Assert.Equal(generator.Events().Take(5).Select(e => e.ToString()), pulled.Select(e => e.ToString()));
        downstream.Cancel();
    }

    [Fact]
    public async Task Source_must_emit_the_whole_traffic_in_order_and_complete()
    {
        var settings = new GeneratorSettings { Users = 60, Days = 1, AnomalyRate = 0.2, Seed = 9 };
        var expected = new TrafficGenerator(settings).Events().Select(e => e.ToString() + e.Label).ToList();

        var events = await TrafficGenerator.AsSource(settings)
            .RunWith(Sink.Seq<UserEvent>(), Sys.Materializer())
            .WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        Assert.Equal(expected, events.Select(e => e.ToString() + e.Label));
    }
}
