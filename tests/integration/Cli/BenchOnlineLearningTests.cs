using System.Text.Json;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>
/// `bench --online-learning on` as a user runs it (the engine as a separate process, tiny generated traffic): the
/// end-to-end and half-load phases run with the real online trainer, and the JSON reports its rounds (time, samples).
/// </summary>
public sealed class BenchOnlineLearningTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task Bench_with_online_learning_on_reports_the_trainers_rounds_with_their_time_and_samples()
    {
        using var dir = new TempDirectory();
        // A GRU (a sequence detector the trainer fine-tunes), trained briefly; rounds every 6 h of event time and from
        // 10 sampled users, so that 200 users over 3 days give several.
        await File.WriteAllTextAsync(dir.File("overlay.conf"),
            "streamdetect.run.model = gru\nstreamdetect.models.gru.epochs = 1\n" +
            "streamdetect.online-learning { cadence = 6h, min-sample-users = 10, steps-per-version = 10 }\n",
            TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "bench", "--config", "overlay.conf", "--users", "200", "--days", "3", "--quiet", "--json", "bench.json", "--online-learning", "on");

        Assert.True(code == 0, $"bench exited {code}: {stderr}");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("bench.json"), TestContext.Current.CancellationToken));
        var root = json.RootElement;
        Assert.True(root.GetProperty("online_learning").GetBoolean());
        Assert.True(root.GetProperty("end_to_end_events_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("latency_p99_ms").GetDouble() > 0);
        foreach (string phase in new[] { "online", "half_load_online" })
        {
            var online = root.GetProperty(phase);
            Assert.True(online.GetProperty("trainer_ran").GetBoolean(), $"{phase}: the trainer ran ({stderr})");
            int rounds = online.GetProperty("rounds").GetInt32();
            Assert.True(rounds >= 1, $"{phase}: {rounds} rounds ({stderr})");
            var perRound = online.GetProperty("per_round").EnumerateArray().ToList();
            Assert.Equal(rounds, perRound.Count);
            Assert.All(perRound, r => Assert.True(r.GetProperty("samples").GetInt32() > 0 && r.GetProperty("time_s").GetDouble() >= 0));
        }
        Assert.Contains("bench: end to end: online learning ", stderr);
        Assert.Contains("\"online_learning\": true", stdout);
    }

    [Fact]
    public async Task Bench_without_the_option_runs_frozen_and_says_so()
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "bench", "--users", "200", "--days", "2", "--ingest-only", "--quiet", "--json", "bench.json");

        Assert.True(code == 0, $"bench exited {code}: {stderr}");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("bench.json"), TestContext.Current.CancellationToken));
        Assert.False(json.RootElement.GetProperty("online_learning").GetBoolean());
    }
}
