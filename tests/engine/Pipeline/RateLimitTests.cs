using System.Diagnostics;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Tests.Pipeline;

/// <summary>`run --rate` (streamdetect.run.rate): the source held to a fixed rate, nothing dropped.</summary>
public sealed class RateLimitTests(ITestOutputHelper output) : TestKit(output: output)
{
    private static List<IngestedEvent> Events(int count) =>
        Enumerable.Range(1, count)
            .Select(i => new IngestedEvent(new UserEvent($"u-{i % 13}", 1_700_000_000_000 + i, EventTypes.View), new SourcePosition("test", 0, i, 1)))
            .ToList();

    [Fact]
    public async Task A_source_held_to_a_rate_passes_every_event_no_faster_than_the_rate()
    {
        var events = Events(600);
        long before = Stopwatch.GetTimestamp();
        var clock = Stopwatch.StartNew();
        var passed = await RateLimit.Apply(Source.From(events), 2000)
            .RunWith(Sink.Seq<IngestedEvent>(), Sys.Materializer())
            .WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        clock.Stop();

        Assert.Equal(events.Select(e => e.Position.Offset), passed.Select(e => e.Position.Offset));
        // 600 events at 2000/s: 20 at once, then 20 per 10 ms tick: at least 290 ms.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"600 events at 2000/s passed in {clock.Elapsed.TotalMilliseconds:N0} ms");
        // An event arrives when the throttle lets it through, not when the source made it.
        Assert.All(passed, e => Assert.True(e.ReceivedTicks >= before));
        Assert.True(passed[^1].ReceivedTicks - passed[0].ReceivedTicks >= Stopwatch.Frequency / 5);
    }

    [Fact]
    public void Rate_zero_leaves_the_source_as_it_is()
    {
        var source = Source.From(Events(3));
        Assert.Same(source, RateLimit.Apply(source, 0));
    }
}
