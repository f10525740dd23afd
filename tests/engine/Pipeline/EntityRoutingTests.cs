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

    private static async Task<List<PartitionReply>> Run(EngineHost host, IReadOnlyList<IngestedEvent> events, EntityRoutingSettings settings)
    {
        return await Source.From(events)
            .Via(EntityRoutingFlow.Create(host.Partitions, settings))
            .RunWith(Sink.Seq<PartitionReply>(), host.System.Materializer())
            .WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken)
            .ContinueWith(t => t.Result.ToList(), TestContext.Current.CancellationToken);
    }

    private static async Task<Dictionary<string, UserBehaviorState>> FinalStates(EngineHost host)
    {
        var result = new Dictionary<string, UserBehaviorState>(StringComparer.Ordinal);
        for (int p = 0; p < host.Settings.Routing.Partitions; p++)
        {
            var states = await host.Partitions.Ask<UserStates>(new GetUserStates(p), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            foreach (string user in states.States.Keys) result[user] = states.Read(user);
        }
        return result;
    }

    [Fact]
    public async Task Per_user_order_holds_with_routing_parallelism_32_across_10k_users()
    {
        var events = TestTraffic.Interleaved(users: 10_000, eventsPerUser: 8);
        await using var host = await _engine.StartAsync();
        var settings = host.Settings.Routing with { Parallelism = 32, MaxBatch = 512, MaxWait = TimeSpan.FromMilliseconds(5) };

        var replies = await Run(host, events, settings);

        Assert.Equal(events.Count, replies.Sum(r => r.Accepted));
        // Each user's window in its partition is the user's events in input order.
        var expected = events.GroupBy(e => e.Event.UserId).ToDictionary(g => g.Key, g => g.Select(e => e.Event.TimestampMs).ToList());
        var states = await FinalStates(host);
        Assert.Equal(10_000, states.Count);
        foreach (var (user, state) in states)
        {
            Assert.Equal(expected[user].Count, state.EventCount);
            // The window's events (its session end markers aside; the end of the input closed the last session).
            var window = state.Window.ToArray();
            Assert.True(Models.Sessions.SessionRule.IsEndMarker(window[^1]));
            var times = window.Where(e => !Models.Sessions.SessionRule.IsEndMarker(e)).Select(e => e.TimestampMs).ToList();
            Assert.Equal(expected[user].TakeLast(times.Count), times);
        }
    }

    [Fact]
    public async Task The_same_input_gives_identical_features_whatever_the_batching_or_parallelism()
    {
        var events = TestTraffic.Generated(users: 300);
        var byConfiguration = new List<Dictionary<string, float[]>>();
        foreach (var (batch, parallelism) in new[] { (1, 1), (7, 3), (4096, 128) })
        {
            using var engine = new TestEngine();
            await using var host = await engine.StartAsync();
            var settings = host.Settings.Routing with { MaxBatch = batch, Parallelism = parallelism };
            await Run(host, events, settings);
            byConfiguration.Add((await FinalStates(host)).ToDictionary(p => p.Key, p => p.Value.Features()));
        }

        var reference = byConfiguration[0];
        Assert.Equal(events.Select(e => e.Event.UserId).Distinct().Count(), reference.Count);
        foreach (var other in byConfiguration.Skip(1))
        {
            Assert.Equal(reference.Keys.Order(), other.Keys.Order());
            foreach (var (user, features) in reference) Assert.Equal(features, other[user]);
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

        // Releasing the downstream lets everything through. The flow's next request may take seconds on
        // a loaded machine (CI saw the cluster's heartbeat 3.6 s late), longer than the probe's default 3 s.
        downstream.Request(long.MaxValue);
        while (sent < all.Count)
        {
            if (demand == 0) demand += (await upstream.Probe.ExpectMsgAsync<TestPublisher.RequestMore>(TimeSpan.FromSeconds(30))).NrOfElements;
            subscription.SendNext(all[sent++]);
            demand--;
        }
        subscription.SendComplete();
        long accepted = 0;
        await foreach (var reply in downstream.ToStrictAsync(TimeSpan.FromMinutes(1))) accepted += reply.Accepted;
        Assert.Equal(all.Count, accepted);
    }
}
