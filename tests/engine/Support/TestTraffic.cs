using StreamDetect.Models.Events;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Tests.Support;

/// <summary>Small, deterministic, realistic event streams for tests (the project's generator).</summary>
public static class TestTraffic
{
    public static List<IngestedEvent> Generated(int users, int days = 1, int seed = 11)
    {
        var generator = new TrafficGenerator(GeneratorSettings.Default with { Users = users, Days = days, Seed = seed });
        return Positioned(generator.Events(), "test-traffic");
    }

    /// <summary>Many users, events interleaved round-robin-ish (every user active all the time).</summary>
    public static List<IngestedEvent> Interleaved(int users, int eventsPerUser, int seed = 3)
    {
        var random = new Random(seed);
        string[] types = [EventTypes.View, EventTypes.Search, EventTypes.Click, EventTypes.Cart, EventTypes.Checkout, EventTypes.Purchase];
        var events = new List<UserEvent>(users * eventsPerUser);
        long t = new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        for (int round = 0; round < eventsPerUser; round++)
        {
            for (int u = 0; u < users; u++)
            {
                t += random.Next(0, 5);
                events.Add(new UserEvent($"u-{u}", t, types[random.Next(types.Length)])
                {
                    Item = $"sku-{random.Next(500)}",
                    Amount = random.Next(1, 200),
                    Device = u % 3 == 0 ? "ios" : "web",
                });
            }
        }
        return Positioned(events, "interleaved");
    }

    private static List<IngestedEvent> Positioned(IEnumerable<UserEvent> events, string source)
    {
        long offset = 0;
        return events.Select(e => new IngestedEvent(e, new SourcePosition(source, 0, ++offset, 42))).ToList();
    }
}
