using System.Diagnostics;
using System.Text.RegularExpressions;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cluster;

/// <summary>
/// A real cluster: docker/local-cluster.sh starts engine processes (hocon/cluster.conf + postgres.conf +
/// kafka.conf) on loopback against PostgreSQL and the librdkafka mock cluster, and feeds generated traffic
/// through kcat while nodes are killed with kill -9, restarted or added. Afterwards every user's state
/// (`state dump`) equals that of one node that ran the same events uninterrupted: nothing lost, nothing
/// folded twice. Skipped without STREAMDETECT_PG (.ci/run sets it), kcat or setsid.
/// </summary>
public sealed partial class LocalClusterTests(ITestOutputHelper output, LocalClusterReference reference) : IClassFixture<LocalClusterReference>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    // Below Linux's ephemeral range (32768 and up): a port there can be taken by any outgoing connection at the moment a
    // node binds it (seen: "Failed to bind to 127.0.0.1:34252", a node exited before it was ready). Three runs a class.
    private static int _nextBasePort = 20050 + (Environment.ProcessId % 38) * 300;

    // Small traffic (~5,000 events) spread over 8 s, so the stream is still running when a node dies. Ingest only: the
    // persisted state is what is compared. Idle 20 s (the script's default): each node counts its idle time from its
    // last record or its last change of partitions, and the feed starts only once every node is ready; at load 30 the
    // last node was ready ~10 s after the others' last rebalance, and with 12 s a node drained as the feed began.
    private static readonly string[] Traffic = ["--users", "200", "--days", "1", "--seed", "5", "--ingest-only", "--idle", "20"];

    // Watermark closes depend on how the Kafka partitions' records interleave (README, "Sessions in the stream"): a
    // partition's watermark is moved by every stream that feeds it, so a stream held back by a node loss sees its users'
    // sessions closed by another stream's event time. Without them (a gap no session reaches) a user's state depends on
    // its own events only, which is what is compared; gap, end-type, session-field and end-of-input closes remain.
    private const string NoWatermarkCloses = "streamdetect.sessions.gap = 30d\n";

    // Was skipped: a survivor once exited 1 with an AskTimeoutException after the kill. Its shard coordinator could not
    // write its state to every node (Akka's majority-min-cap 5 meant all three) while the killed node was unreachable,
    // and the end-of-run stats ask had no resend (hocon/cluster.conf, EngineHost.PartitionStatsAsync).
    [Fact]
    public async Task A_node_killed_mid_stream_moves_its_partitions_and_rejoins_and_the_state_equals_one_uninterrupted_node()
    {
        SkipUnlessAvailable();
        using var dir = new TempDirectory("sd-local-cluster-");
        string expected = await SingleNodeAsync();
        string actual = await RunAsync(dir.File("cluster"), ["--nodes", "3", "--feed-seconds", "8", "--kill", "3@3", "--start", "3@14"]);

        string log3 = await File.ReadAllTextAsync(Path.Combine(dir.File("cluster"), "node-3.log"), TestContext.Current.CancellationToken);
        Assert.Contains("events in", log3, StringComparison.Ordinal); // the restarted node ran to its report
        AssertSameState(expected, actual);
    }

    // Was skipped: it lost 746 of 5,164 events once. A partition moved by the rebalance was stopped with a PoisonPill
    // while its journal writes were in flight, and its next incarnation could recover without them (StopPartition).
    [Fact]
    public async Task A_node_added_mid_stream_takes_partitions_and_the_state_equals_one_uninterrupted_node()
    {
        SkipUnlessAvailable();
        using var dir = new TempDirectory("sd-local-cluster-");
        string expected = await SingleNodeAsync();
        string actual = await RunAsync(dir.File("cluster"), ["--nodes", "3", "--feed-seconds", "8", "--start", "3@3"]);
        AssertSameState(expected, actual);
    }

    // Was a known defect: every event was persisted, but the survivors waited for ever on 101-142 events they had read
    // and exited 1. Partitions on the survivors held requests in flight to the killed node's scoring inbox; a user's
    // later events, read by a survivor once the Kafka partitions moved, waited behind a request nobody would settle.
    // Partitions now watch the inboxes they hand requests to and issue those again to a live stream
    // (PartitionState.StreamGone). Also guarded: a colocation move to or from the killed node hung for 60 s
    // (ReachableShardAllocationStrategy), and a partition stopped for a hand-off dropped the scoring confirmations it had
    // not journaled yet, so `state dump` found events persisted but not confirmed scored (CI, once).
    // The state dump holds behaviour only (the same with or without scoring), so the
    // ingest-only reference serves. That every event was scored shows when `state dump` recovers the partitions (at
    // akka.loglevel = INFO): none reports users with events persisted but not confirmed scored, nor alerts journaled
    // and never delivered.
    [Fact]
    public async Task A_node_killed_mid_stream_of_a_scoring_run_leaves_every_event_scored_the_alert_ids_unique_and_the_state_equal_to_one_node()
    {
        SkipUnlessAvailable();
        using var dir = new TempDirectory("sd-local-cluster-");
        string expected = await SingleNodeAsync();
        string actual = await RunAsync(dir.File("cluster"), ["--nodes", "3", "--feed-seconds", "8", "--kill", "3@3"], scoring: true);

        AssertSameState(expected, actual);
        string stateLog = await File.ReadAllTextAsync(Path.Combine(actual, "state.log"), TestContext.Current.CancellationToken);
        Assert.Contains("users from 64 partitions", stateLog, StringComparison.Ordinal);
        Assert.False(stateLog.Contains("not confirmed scored", StringComparison.Ordinal),
            $"state dump:\n{stateLog}\nthe nodes' partitions that recovered unscored events or lost an inbox:\n" +
            string.Join('\n', Directory.GetFiles(actual, "node-*.log").Order().SelectMany(f => File.ReadLines(f)
                .Where(l => l.Contains("not confirmed scored", StringComparison.Ordinal) || l.Contains("is gone", StringComparison.Ordinal)
                    || l.Contains("no stream asked", StringComparison.Ordinal))
                .Select(l => $"{Path.GetFileName(f)}: {l}"))));
        int reissued = Directory.GetFiles(actual, "node-*.log").Sum(f => File.ReadLines(f).Count(l => l.Contains("is gone;", StringComparison.Ordinal)));
        output.WriteLine($"{reissued} partitions issued a gone inbox's requests again");
    }

    /// <summary>
    /// The same events through one node, uninterrupted (run once for the class). Idle 6 s, not 12: one node, no fault and
    /// no rebalance, so the only wait after its last record is the idle stop itself.
    /// </summary>
    private Task<string> SingleNodeAsync() => reference.GetAsync(() => RunAsync(reference.Work.File("single"), ["--nodes", "1", "--feed-seconds", "2", "--idle", "6"]));

    private void AssertSameState(string expected, string actual)
    {
        var single = File.ReadAllLines(Path.Combine(expected, "state.jsonl"));
        var cluster = File.ReadAllLines(Path.Combine(actual, "state.jsonl"));
        output.WriteLine($"{single.Length} users in the single node's state, {cluster.Length} in the cluster's");
        Assert.NotEmpty(single);
        Assert.Equal(single.Length, cluster.Length);
        for (int i = 0; i < single.Length; i++) Assert.Equal(single[i], cluster[i]);
    }

    /// <summary>Runs the script to its end; returns its work directory (state.jsonl, alerts.jsonl, node logs).</summary>
    /// <param name="scoring">Score the events (a zscore model the script trains on the spot) rather than ingest only.</param>
    private async Task<string> RunAsync(string workDirectory, string[] arguments, bool scoring = false)
    {
        int basePort = Interlocked.Add(ref _nextBasePort, 300);
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot(),
        };
        info.ArgumentList.Add(Path.Combine(RepositoryRoot(), "docker", "local-cluster.sh"));
        Directory.CreateDirectory(workDirectory);
        string overlay = Path.Combine(workDirectory, "..", Path.GetFileName(workDirectory) + ".conf");
        await File.WriteAllTextAsync(overlay, NoWatermarkCloses + (scoring ? "akka.loglevel = INFO\n" : ""), TestContext.Current.CancellationToken);
        foreach (string a in (string[])[.. Traffic.Where(a => !scoring || a != "--ingest-only"), .. arguments, "--config", overlay, "--dir", workDirectory, "--base-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--engine", Path.Combine(AppContext.BaseDirectory, "streamdetect.dll")])
            info.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // SIGTERM: the script stops every process it started.
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
            throw new TimeoutException($"local-cluster.sh {string.Join(' ', arguments)} did not finish within {Timeout}; stderr:\n{await stderr}");
        }
        string summary = await stdout, log = await stderr;
        output.WriteLine($"local-cluster.sh {string.Join(' ', arguments)}: {clock.Elapsed.TotalSeconds:F0} s\n{summary}");
        Assert.True(process.ExitCode == 0, $"local-cluster.sh exited {process.ExitCode}:\n{log}\n{summary}\n{NodeLogs(workDirectory)}");
        var figures = SummaryLine().Match(summary);
        Assert.True(figures.Success, $"no summary line in:\n{summary}");
        // Every event persisted exactly once; when not, which users lost or gained events, and the nodes' last lines.
        Assert.True(figures.Groups["events"].Value == figures.Groups["persisted"].Value,
            $"{summary}\nusers whose event count in the state differs from the fed events (user: fed -> state): {CountDifferences(workDirectory)}\n{NodeLogs(workDirectory)}");
        Assert.Equal(figures.Groups["alerts"].Value, figures.Groups["unique"].Value); // no alert emitted twice
        return workDirectory;
    }

    private static string CountDifferences(string workDirectory)
    {
        string events = Path.Combine(workDirectory, "events.jsonl"), state = Path.Combine(workDirectory, "state.jsonl");
        if (!File.Exists(events) || !File.Exists(state)) return "(events.jsonl or state.jsonl missing)";
        var fed = File.ReadLines(events).Select(l => UserIdField().Match(l).Groups[1].Value).CountBy(u => u).ToDictionary();
        var held = File.ReadLines(state).Select(l => (User: UserIdField().Match(l).Groups[1].Value, Count: int.Parse(EventCountField().Match(l).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .ToDictionary(x => x.User, x => x.Count);
        var differing = fed.Keys.Union(held.Keys).Order(StringComparer.Ordinal)
            .Where(u => fed.GetValueOrDefault(u) != held.GetValueOrDefault(u))
            .Select(u => $"{u}: {fed.GetValueOrDefault(u)} -> {held.GetValueOrDefault(u)}").ToList();
        return differing.Count == 0 ? "none" : $"{differing.Count}: {string.Join(", ", differing.Take(40))}";
    }

    [GeneratedRegex("\"userId\":\"([^\"]*)\"")]
    private static partial Regex UserIdField();

    [GeneratedRegex("\"eventCount\":([0-9]+)")]
    private static partial Regex EventCountField();

    private static string NodeLogs(string workDirectory) =>
        string.Join('\n', Directory.GetFiles(workDirectory, "node-*.log").Order().Select(f => $"== {Path.GetFileName(f)}\n{string.Join('\n', File.ReadLines(f).TakeLast(40))}"));

    private static void SkipUnlessAvailable()
    {
        Assert.SkipWhen(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("STREAMDETECT_PG")), "STREAMDETECT_PG is not set (.ci/run starts PostgreSQL and sets it)");
        foreach (string tool in new[] { "kcat", "setsid", "bash" })
            Assert.SkipUnless(OnPath(tool), $"{tool} is not installed (.ci/run installs kcat; setsid is in util-linux)");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, tool)));

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "docker", "local-cluster.sh"))) return d.FullName;
        throw new InvalidOperationException($"docker/local-cluster.sh not found above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"events=(?<events>\d+) persisted=(?<persisted>\d+) users=\d+ alerts=(?<alerts>\d+) unique_alert_ids=(?<unique>\d+)")]
    private static partial Regex SummaryLine();
}
