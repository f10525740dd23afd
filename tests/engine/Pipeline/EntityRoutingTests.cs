using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Entities;
using StreamDetect.Stages.Partitions;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Tests.Support;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Tests.Pipeline;

/// <summary>The path source -> user partitions -> scoring requests, on a real single-node cluster (in-memory journal).</summary>
public sealed class EntityRoutingTests : IDisposable
{
    private readonly TestEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    private static async Task<List<ScoringRequest>> Run(EngineHost host, IReadOnlyList<IngestedEvent> events, EntityRoutingSettings settings)
    {
        return await Source.From(events)
            .Via(EntityRoutingFlow.Create(host.Partitions, settings))
            .SelectMany(reply => reply.Requests)
            .RunWith(Sink.Seq<ScoringRequest>(), host.System.Materializer())
            .WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken)
            .ContinueWith(t => t.Result.ToList(), TestContext.Current.CancellationToken);
    }

    private static async Task<Dictionary<string, float[]>> FinalFeatures(EngineHost host)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int p = 0; p < host.Settings.Routing.Partitions; p++)
        {
            var states = await host.Partitions.Ask<UserStates>(new GetUserStates(p), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            foreach (string user in states.States.Keys) result[user] = states.Read(user).Features();
        }
        return result;
    }

    [Fact]
    public async Task Per_user_order_holds_with_routing_parallelism_32_across_10k_users()
    {
        var events = TestTraffic.Interleaved(users: 10_000, eventsPerUser: 8);
        await using var host = await _engine.StartAsync();
        var settings = host.Settings.Routing with { Parallelism = 32, MaxBatch = 512, MaxWait = TimeSpan.FromMilliseconds(5) };

        var requests = await Run(host, events, settings);

        // Each user's requests come out in stream order: event counts rise by exactly the new events.
        var expected = events.GroupBy(e => e.Event.UserId).ToDictionary(g => g.Key, g => g.Select(e => e.Event.TimestampMs).ToList());
        foreach (var user in requests.GroupBy(r => r.UserId))
        {
            long seen = 0;
            foreach (var r in user)
            {
                Assert.Equal(seen + r.NewEvents, r.EventCount);
                seen = r.EventCount;
                // ...and the window the entity built is the user's events in input order.
                var inputSoFar = expected[user.Key].Take((int)r.EventCount).TakeLast(r.Window.Length);
                Assert.Equal(inputSoFar, r.Window.Select(w => w.TimestampMs));
            }
            Assert.Equal(expected[user.Key].Count, seen);
        }
        Assert.Equal(10_000, requests.Select(r => r.UserId).Distinct().Count());
    }

    [Fact]
    public async Task The_same_input_gives_identical_features_whatever_the_batching_or_parallelism()
    {
        var events = TestTraffic.Generated(users: 300);
        var byConfiguration = new List<(Dictionary<string, float[]> Final, Dictionary<(string, long), float[]> PerRequest)>();
        foreach (var (batch, parallelism) in new[] { (1, 1), (7, 3), (4096, 128) })
        {
            using var engine = new TestEngine();
            await using var host = await engine.StartAsync();
            var settings = host.Settings.Routing with { MaxBatch = batch, Parallelism = parallelism };
            var requests = await Run(host, events, settings);
            byConfiguration.Add((await FinalFeatures(host), requests.ToDictionary(r => (r.UserId, r.EventCount), r => r.Features)));
        }

        var reference = byConfiguration[0];
        Assert.Equal(events.Select(e => e.Event.UserId).Distinct().Count(), reference.Final.Count);
        foreach (var other in byConfiguration.Skip(1))
        {
            Assert.Equal(reference.Final.Keys.Order(), other.Final.Keys.Order());
            foreach (var (user, features) in reference.Final) Assert.Equal(features, other.Final[user]);
            // where both configurations produced a request at the same event count, the vectors are identical
            int compared = 0;
            foreach (var (key, features) in other.PerRequest)
            {
                if (!reference.PerRequest.TryGetValue(key, out var referenceFeatures)) continue;
                Assert.Equal(referenceFeatures, features);
                compared++;
            }
            Assert.True(compared > 100, $"only {compared} requests were comparable");
        }
    }

    [Fact]
    public async Task With_a_stalled_downstream_in_flight_events_stay_bounded_and_the_source_stops_pulling()
    {
        await using var host = await _engine.StartAsync();
        var settings = host.Settings.Routing with { MaxBatch = 64, Parallelism = 4, MaxWait = TimeSpan.FromMilliseconds(5) };
        long pulled = 0;
        var all = TestTraffic.Interleaved(users: 1000, eventsPerUser: 50);
        IEnumerable<IngestedEvent> Counted()
        {
            foreach (var e in all)
            {
                Interlocked.Increment(ref pulled);
                yield return e;
            }
        }

        // A downstream that takes nothing: the queue sink pulls only when asked, and we never ask.
        var queue = Source.From(Counted())
            .Via(EntityRoutingFlow.Create(host.Partitions, settings))
            .RunWith(Sink.Queue<PartitionReply>(), host.System.Materializer());

        await Task.Delay(1500, TestContext.Current.CancellationToken);
        long first = Interlocked.Read(ref pulled);
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        long second = Interlocked.Read(ref pulled);

        // In flight at most: the parts awaiting persistence (parallelism x max-batch), one group being
        // split, one being formed, the queue sink's buffer (16 replies, each up to max-batch events) and
        // the default stage buffers.
        long bound = settings.MaxBatch * (settings.Parallelism + 2L + 16) + 64;
        Assert.True(second <= bound, $"{second} events pulled from the source, bound {bound}");
        Assert.Equal(first, second);
        Assert.True(second < all.Count, "the source should have stopped long before its end");

        // Releasing the downstream lets everything through.
        long accepted = 0;
        while (await queue.PullAsync() is { HasValue: true } reply) accepted += reply.Value.Accepted;
        Assert.Equal(all.Count, accepted);
    }
}
