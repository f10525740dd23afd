using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using Akka.TestKit.Xunit;
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
public sealed class EntityRoutingTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestEngine _engine = new();
    private readonly ITestOutputHelper _output = output;

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
        var kit = new TestKit(host.System, _output); // probes in the engine's own system, which the host terminates
        var settings = host.Settings.Routing with { MaxBatch = 64, Parallelism = 4, MaxWait = TimeSpan.FromMilliseconds(5) };
        var all = TestTraffic.Interleaved(users: 1000, eventsPerUser: 50);

        // A downstream that asks for nothing; the source sends only what the flow asks for.
        var (upstream, downstream) = TestSource.SourceProbe<IngestedEvent>(kit)
            .Via(EntityRoutingFlow.Create(host.Partitions, settings))
            .ToMaterialized(TestSink.SinkProbe<PartitionReply>(kit), Keep.Both)
            .Run(host.System.Materializer());
        var subscription = await upstream.ExpectSubscriptionAsync();
        await downstream.EnsureSubscriptionAsync();

        // In flight at most: the parts awaiting persistence or their turn downstream (parallelism x
        // max-batch), one group being split, one being formed, the input buffer (16) and some slack.
        long bound = settings.MaxBatch * (settings.Parallelism + 2L) + 64;
        int sent = 0;
        long demand = 0;
        // Feed the flow for as long as it asks for more within a second.
        while (sent < all.Count)
        {
            if (demand == 0)
            {
                if (await upstream.Probe.ReceiveOneAsync(TimeSpan.FromSeconds(1)) is not TestPublisher.RequestMore more) break;
                demand += more.NrOfElements;
            }
            subscription.SendNext(all[sent++]);
            demand--;
            Assert.True(sent <= bound, $"the flow took {sent} events with nothing taken downstream, bound {bound}");
        }
        Assert.True(sent < all.Count, "the source should have stopped long before its end");

        // Releasing the downstream lets everything through.
        downstream.Request(long.MaxValue);
        while (sent < all.Count)
        {
            if (demand == 0) demand += await subscription.ExpectRequestAsync();
            subscription.SendNext(all[sent++]);
            demand--;
        }
        subscription.SendComplete();
        long accepted = 0;
        await foreach (var reply in downstream.ToStrictAsync(TimeSpan.FromMinutes(1))) accepted += reply.Accepted;
        Assert.Equal(all.Count, accepted);
    }
}
