using System.Net;
using System.Net.Sockets;
using Akka.Cluster;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Plans;
using StreamDetect.Engine.Registry;
using StreamDetect.Integration.Tests.Scoring;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Online;

/// <summary>
/// Cluster-wide model plans (issue 11) on two in-process engine nodes and a real registry (SQLite): one node decides each
/// boundary (the singleton: the trainer-role node, else the oldest), the plan goes to the store and the broadcast, and
/// every node resolves the same boundary with it. The test drives each node's schedule the way its scoring loop does
/// (the order keys its stream reached) and changes the champion the way `streamdetect models promote|rollback` does.
/// </summary>
public sealed class SharedPlanTests(ITestOutputHelper output) : IDisposable
{
    private const long Hour = 3_600_000;
    // A whole hour of event time: the grid's origin (each schedule starts at the first key it admits, rounded down).
    private const long T0 = 1_790_000_000_000 / Hour * Hour;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _dir = new();
    private readonly StringWriter _log = new();
    private readonly List<IDisposable> _disposables = [];

    private StoreSettings Store => StoreSettings.Create(EngineConfig.Load(null, $"streamdetect.store.kind = sqlite\nstreamdetect.store.data-dir = \"{_dir.Path}\""));

    [Fact]
    public async Task A_champion_promoted_in_the_registry_is_decided_on_the_trainer_node_and_applied_at_the_same_boundary_on_both_nodes()
    {
        var (a, b) = RegisterTwoVersions();
        // The seed is the oldest node; the other one has the trainer role, so it decides.
        var (seed, trainerNode) = await StartTwoNodesAsync(otherRoles: "trainer");
        await using var _ = seed;
        await using var __ = trainerNode;
        // Polls of a minute: a follower that resolves within seconds was woken by the broadcast.
        var settings = new SharedPlanSettings { Enabled = true, Poll = TimeSpan.FromMinutes(1), FollowerTimeout = TimeSpan.Zero };
        var (followerSchedule, follower) = Node(seed, a, settings);
        var (deciderSchedule, decider) = Node(trainerNode, a, settings);
        await Probe.UntilAsync(() => Task.FromResult(decider.IsDecider), Wait, () => _log.ToString());
        Assert.False(follower.IsDecider);
        Assert.Equal("trainer", decider.DeciderRole);
        Assert.Equal("trainer", follower.DeciderRole);
        await Task.WhenAll(follower.Listening, decider.Listening).WaitAsync(Wait, TestContext.Current.CancellationToken);
        await BroadcastReachesAsync(from: trainerNode, to: seed);

        // Boundary 1: nothing changed, the decider writes "unchanged" and both follow it.
        Reach(followerSchedule, T0 + 1);
        Reach(deciderSchedule, T0 + 1);
        Reach(followerSchedule, T0 + Hour + 5);
        Reach(deciderSchedule, T0 + Hour + 5);
        await Resolved(T0 + Hour, followerSchedule, deciderSchedule);

        // Boundary 2: the follower's stream gets there first and holds (no node has decided it: the decider's stream is
        // not there yet). Then `models promote` makes b the champion, and the decider's stream reaches the boundary.
        Reach(followerSchedule, T0 + 2 * Hour + 5);
        await Probe.UntilAsync(() => Task.FromResult(follower.LastFoundNoPlan == T0 + 2 * Hour), Wait, () => _log.ToString());
        Assert.Equal(T0 + 2 * Hour, followerSchedule.PendingBoundary);
        Registry().Promote(b.Version, "operator: models promote");
        Reach(deciderSchedule, T0 + 2 * Hour + 5);
        await Resolved(T0 + 2 * Hour, followerSchedule, deciderSchedule);

        // Boundary 3: `models rollback` restores a.
        Registry().Rollback("operator: models rollback");
        Reach(followerSchedule, T0 + 3 * Hour + 5);
        Reach(deciderSchedule, T0 + 3 * Hour + 5);
        await Resolved(T0 + 3 * Hour, followerSchedule, deciderSchedule);

        output.WriteLine(_log.ToString());
        foreach (var schedule in new[] { followerSchedule, deciderSchedule })
        {
            Assert.Equal(a.Version, schedule.PlanAt(T0 + 2 * Hour - 1).Champion.Version);
            Assert.Equal(b.Version, schedule.PlanAt(T0 + 2 * Hour).Champion.Version);
            Assert.Equal(b.Version, schedule.PlanAt(T0 + 3 * Hour - 1).Champion.Version);
            Assert.Equal(a.Version, schedule.PlanAt(T0 + 3 * Hour).Champion.Version);
            Assert.Equal(new[] { T0 + Hour, T0 + 2 * Hour, T0 + 3 * Hour }, schedule.History.Select(h => h.Boundary));
            Assert.Equal(new[] { false, true, true }, schedule.History.Select(h => h.Changed));
        }
        Assert.Equal(
            deciderSchedule.History.Select(h => (h.Boundary, h.Champion, h.Shadow, h.Reason)),
            followerSchedule.History.Select(h => (h.Boundary, h.Champion, h.Shadow, h.Reason)));
        var stored = ModelPlanStore.Open(Store).All();
        Assert.Equal(new[] { T0 + Hour, T0 + 2 * Hour, T0 + 3 * Hour }, stored.Select(p => p.Boundary));
        Assert.All(stored, p => Assert.Equal(decider.Node, p.DecidedBy));
        Assert.Contains("registry", stored[1].Reason);
        Assert.Null(follower.Failure);
        Assert.Null(decider.Failure);
    }

    [Fact]
    public async Task A_follower_that_missed_the_broadcast_resolves_from_the_store_and_one_that_waited_too_long_decides_for_everyone()
    {
        var (a, b) = RegisterTwoVersions();
        var (seed, other) = await StartTwoNodesAsync(otherRoles: null);
        await using var _ = seed;
        await using var __ = other;
        var settings = new SharedPlanSettings { Enabled = true, Poll = TimeSpan.FromMilliseconds(200), FollowerTimeout = TimeSpan.FromSeconds(1) };
        // No node has the trainer role: the oldest (the seed) decides. The other node has no resolver yet.
        var (deciderSchedule, decider) = Node(seed, a, settings);
        await Probe.UntilAsync(() => Task.FromResult(decider.IsDecider), Wait, () => _log.ToString());
        Assert.Null(decider.DeciderRole);
        Registry().Promote(b.Version, "operator: models promote");
        Reach(deciderSchedule, T0 + 1);
        Reach(deciderSchedule, T0 + Hour + 5);
        await Resolved(T0 + Hour, deciderSchedule);
        Assert.Equal(b.Version, deciderSchedule.PlanAt(T0 + Hour).Champion.Version);

        // The other node starts listening after the broadcast of boundary 1 went out: it finds the plan in the store.
        var (followerSchedule, follower) = Node(other, a, settings);
        Assert.False(follower.IsDecider);
        Reach(followerSchedule, T0 + 1);
        Reach(followerSchedule, T0 + Hour + 5);
        await Resolved(T0 + Hour, followerSchedule);
        Assert.Equal(b.Version, followerSchedule.PlanAt(T0 + Hour).Champion.Version);

        // Boundary 2: the decider's stream never gets there in time; after follower-timeout the follower writes "unchanged"
        // for it, and the decider, once its stream arrives, resolves it with that stored row (first writer wins).
        Reach(followerSchedule, T0 + 2 * Hour + 5);
        await Resolved(T0 + 2 * Hour, followerSchedule);
        Reach(deciderSchedule, T0 + 2 * Hour + 5);
        await Resolved(T0 + 2 * Hour, deciderSchedule);

        output.WriteLine(_log.ToString());
        var second = ModelPlanStore.Open(Store).At(T0 + 2 * Hour);
        Assert.NotNull(second);
        Assert.Equal(follower.Node, second.DecidedBy);
        Assert.Contains("follower-timeout", second.Reason);
        Assert.Equal(
            deciderSchedule.History.Select(h => (h.Boundary, h.Champion, h.Shadow, h.Reason)),
            followerSchedule.History.Select(h => (h.Boundary, h.Champion, h.Shadow, h.Reason)));
        Assert.Equal(b.Version, followerSchedule.PlanAt(T0 + 2 * Hour).Champion.Version);
    }

    private ModelRegistry Registry() => ModelRegistry.Open(Store);

    /// <summary>Two versions in the registry (two zscore models of different traffic); the first is the champion.</summary>
    private (IAnomalyDetector A, IAnomalyDetector B) RegisterTwoVersions()
    {
        // Small: only their versions matter here.
        var a = QuickModel.Train("zscore", users: 40, days: 1, seed: 4);
        var b = QuickModel.Train("zscore", users: 40, days: 1, seed: 5);
        _disposables.Add(a);
        _disposables.Add(b);
        Assert.NotEqual(a.Version, b.Version);
        var registry = Registry();
        registry.Register(a, VersionRegistration.Trained(new OriginDetail(Source: "test a")));
        registry.Register(b, VersionRegistration.Trained(new OriginDetail(Source: "test b")));
        Assert.True(registry.PromoteIfNoChampion(a.Version, "the registry's first model"));
        return (a, b);
    }

    /// <summary>One node's schedule (its initial plan: its own instance of <paramref name="champion"/>, as a run loads its model) and its resolver.</summary>
    private (ModelSchedule Schedule, SharedPlanResolver Resolver) Node(EngineHost host, IAnomalyDetector champion, SharedPlanSettings settings)
    {
        var own = Registry().LoadDetector(champion.Version, "cpu");
        var schedule = new ModelSchedule(new ModelPlan(own, null, "the run's model"), Hour);
        var resolver = new SharedPlanResolver(schedule, ModelPlanStore.Open(Store), Registry(), host.System, settings, "cpu", TextWriter.Synchronized(_log));
        // Disposed in reverse: the resolver (its thread), the schedule (the versions it loaded), the run's own instance.
        _disposables.Add(own);
        _disposables.Add(schedule);
        _disposables.Add(resolver);
        return (schedule, resolver);
    }

    /// <summary>The stream admitted an event with this order key (what the scoring loop tells its schedule).</summary>
    private static void Reach(ModelSchedule schedule, long key) => schedule.Observe(key);

    private async Task Resolved(long boundary, params ModelSchedule[] schedules) =>
        await Probe.UntilAsync(() => Task.FromResult(schedules.All(s => s.NextBoundary > boundary)), Wait, () => _log.ToString());

    /// <summary>
    /// Waits until the topic's subscriptions of <paramref name="to"/> have reached <paramref name="from"/> by gossip: a
    /// listener subscribed there after the resolver's hears a notice published here (a node's subscriptions travel in
    /// version order, so the resolver's earlier one is known too). The notice names no boundary (-1): a resolver that
    /// hears it only reads the store once.
    /// </summary>
    private static async Task BroadcastReachesAsync(EngineHost from, EngineHost to)
    {
        var heard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new PlanNotices(to.System, _ => heard.TrySetResult());
        await listener.Subscribed.WaitAsync(Wait, TestContext.Current.CancellationToken);
        var notices = new PlanNotices(from.System, _ => { });
        try
        {
            await Probe.UntilAsync(() =>
            {
                if (!heard.Task.IsCompleted) notices.Publish(-1);
                return Task.FromResult(heard.Task.IsCompleted);
            }, Wait, () => "the broadcast never reached the other node");
        }
        finally
        {
            notices.Dispose();
        }
    }

    private async Task<(EngineHost Seed, EngineHost Other)> StartTwoNodesAsync(string? otherRoles)
    {
        int seedPort = FreePort(), otherPort = FreePort();
        string Config(int port, string? roles) => $"""
            streamdetect.store.kind = memory
            streamdetect.store.data-dir = "{_dir.Path}"
            akka.remote.dot-netty.tcp.port = {port}
            akka.cluster.seed-nodes = ["akka.tcp://streamdetect@127.0.0.1:{seedPort}"]
            akka.cluster.roles = [{roles ?? ""}]
            akka.actor.serialize-messages = off
            """;
        var seed = await EngineHost.StartAsync(EngineConfig.Load(null, Config(seedPort, null)), cluster: true, TestContext.Current.CancellationToken);
        var other = await EngineHost.StartAsync(EngineConfig.Load(null, Config(otherPort, otherRoles)), cluster: true, TestContext.Current.CancellationToken);
        // Both nodes see both members up before they choose where the decider runs (its role is read from the membership).
        await Probe.UntilAsync(() => Task.FromResult(new[] { seed, other }.All(h =>
            Akka.Cluster.Cluster.Get(h.System).State.Members.Count(m => m.Status == MemberStatus.Up) == 2)), Wait, () => _log.ToString());
        return (seed, other);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        for (int i = _disposables.Count - 1; i >= 0; i--) _disposables[i].Dispose();
        _dir.Dispose();
    }
}
