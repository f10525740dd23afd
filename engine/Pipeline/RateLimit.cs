using System.Diagnostics;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// Holds a source to a fixed rate (<c>streamdetect.run.rate</c>, `run --rate`): events leave in ticks of 10 ms,
/// rate / 100 per tick, shaped (held back, never dropped). An event's arrival time is when the throttle lets it
/// through, so the read-ahead of the source behind it is not counted as latency.
/// </summary>
public static class RateLimit
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    /// <summary><paramref name="source"/> held to <paramref name="eventsPerSecond"/>; unchanged when it is 0 or less.</summary>
    public static Source<IngestedEvent, TMat> Apply<TMat>(Source<IngestedEvent, TMat> source, double eventsPerSecond)
    {
        if (eventsPerSecond <= 0) return source;
        // Below 100 events/s a tick lets one event through, at longer intervals.
        int perTick = Math.Max(1, (int)Math.Round(eventsPerSecond / 100));
        var interval = TimeSpan.FromSeconds(perTick / eventsPerSecond);
        return source
            .Throttle(perTick, interval < Tick ? Tick : interval, perTick, ThrottleMode.Shaping)
            .Select(e => e with { ReceivedTicks = Stopwatch.GetTimestamp() });
    }
}
