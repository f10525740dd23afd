using System.Diagnostics;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Tests.Support;
using TorchSharp;

namespace StreamDetect.Models.Tests.Benchmarks;

/// <summary>
/// Throughput in the streaming shape (batch of 1024 users, one new event each, states kept from the
/// previous batch), printed through the test output. A smoke measurement in the normal run; set
/// SD_BENCH_SECONDS (e.g. 5) and run in Release for figures worth quoting.
/// </summary>
public sealed class ScoringThroughputTests(TrainedDetectors trained, ITestOutputHelper output)
{
    private static double Seconds => double.TryParse(Environment.GetEnvironmentVariable("SD_BENCH_SECONDS"), out double s) ? s : 0.5;

    public static TheoryData<string> Models => new() { "lstm", "gru", "transformer", "ae", "gan", "zscore", "iforest", "knn", "ensemble" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Streaming_batches_of_1024_users(string model)
    {
        var detector = trained.Get(model);
        var (inputs, rebuild) = Batch(detector, 1024);
        double incremental = Measure(detector, inputs, out double perCpuSecond);
        double rebuilt = Measure(detector, rebuild);
        output.WriteLine($"{model}: {incremental:F0} events/s with kept state ({perCpuSecond:F0} per CPU-second), {rebuilt:F0} events/s rebuilding every state from the window " +
            $"(batch {inputs.Length}, torch threads {torch.get_num_threads()}, {(Debugger.IsAttached ? "debugger" : Build)} build, load {Load()})");
        Assert.True(incremental > 100, $"{model}: {incremental:F0} events/s");
    }

    /// <summary>
    /// The same 1024 events per batch, as 1024 users with 1 new event, 256 with 4 or 64 with 16 (every event
    /// judged on its own: one feature row each, one recurrent step each).
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Streaming_batches_of_1024_events_with_several_new_events_per_user(string model)
    {
        var detector = trained.Get(model);
        var figures = new List<string>();
        foreach (int perUser in new[] { 1, 4, 16 })
        {
            var inputs = GroupedBatch(detector, 1024 / perUser, perUser);
            double rate = Measure(detector, inputs, out double perCpuSecond) * perUser;
            figures.Add($"{inputs.Length} x {perUser}: {rate:F0} ({perCpuSecond * perUser:F0} per CPU-second)");
            Assert.True(rate > 100, $"{model}: {rate:F0} events/s with {perUser} new events per user");
        }
        output.WriteLine($"{model}: events/s with kept state, users x new events per batch: {string.Join(", ", figures)} " +
            $"(torch threads {torch.get_num_threads()}, {Build} build, load {Load()})");
    }

    /// <summary>A batch of <paramref name="size"/> users with <paramref name="perUser"/> new events each, their states kept from the event before.</summary>
    internal static ScoringInput[] GroupedBatch(IAnomalyDetector detector, int size, int perUser)
    {
        var users = DatasetBuilder.Build(SyntheticTraffic.Shoppers(800, 0, 3, 21)).Users.Where(u => u.Count > perUser).ToList();
        while (users.Count < size) users.AddRange(users.Take(size - users.Count).ToArray());
        var replays = users.Take(size).Select(u =>
        {
            var replay = u.StartReplay(32);
            while (replay.Position < u.Count - perUser - 1) replay.Advance();
            return replay;
        }).ToArray();
        var before = detector.ScoreBatch(replays.Select(r => r.AdvanceAsInput(1)).ToArray());
        for (int i = 0; i < replays.Length; i++) replays[i].DetectorState = before[i].NewState;
        return replays.Select(r => r.AdvanceAsInput(perUser)).ToArray();
    }

    /// <summary>
    /// The figures quoted in the models report: saved models (SD_BENCH_MODELS, comma-separated model files)
    /// on users of an event file (SD_BENCH_DATA), batch 1024, one new event per user, state kept.
    /// </summary>
    [Fact]
    public void Saved_models_on_an_event_file()
    {
        string? models = Environment.GetEnvironmentVariable("SD_BENCH_MODELS");
        string? data = Environment.GetEnvironmentVariable("SD_BENCH_DATA");
        if (models is null || data is null) Assert.Skip("set SD_BENCH_MODELS and SD_BENCH_DATA to measure saved models on an event file");
        var events = Stages.Sources.EventFile.Read(data).Take(1_500_000).ToList();
        var users = DatasetBuilder.Build(events).Users.Where(u => u.Count >= 40).Take(1024).ToArray();
        var pairs = users.Select(u => u.Replay(32).Skip(u.Count - 2).ToArray()).ToArray();
        foreach (string path in models.Split(','))
        {
            using var detector = DetectorFile.Load(path, "cpu");
            var kept = detector.ScoreBatch(pairs.Select(p => p[0].ToScoringInput(null)).ToArray());
            var inputs = pairs.Select((p, i) => p[1].ToScoringInput(kept[i].NewState)).ToArray();
            var rebuild = pairs.Select(p => p[1].ToScoringInput(null)).ToArray();
            double incremental = Measure(detector, inputs);
            double rebuilt = Measure(detector, rebuild);
            output.WriteLine($"{detector.Name} ({Path.GetFileName(path)}): {incremental:F0} events/s with kept state, {rebuilt:F0} events/s rebuilding " +
                $"every state from its 32-event window (batch {inputs.Length}, torch threads {torch.get_num_threads()}, {Build} build, load {Load()})");
        }
    }

    /// <summary>A batch of distinct users one event after a state was kept (and the same without state).</summary>
    internal static (ScoringInput[] Fresh, ScoringInput[] Rebuild) Batch(IAnomalyDetector detector, int size)
    {
        var users = new List<(BehaviorSample Previous, BehaviorSample Next)>();
        foreach (var user in TrainedUsers())
        {
            var samples = user.Replay(32).TakeLast(2).ToArray();
            if (samples.Length == 2) users.Add((samples[0], samples[1]));
        }
        while (users.Count < size) users.AddRange(users.Take(size - users.Count).ToArray());
        users = users.Take(size).ToList();
        var kept = detector.ScoreBatch(users.Select(u => u.Previous.ToScoringInput(null)).ToArray());
        var fresh = users.Select((u, i) => u.Next.ToScoringInput(kept[i].NewState)).ToArray();
        var rebuild = users.Select(u => u.Next.ToScoringInput(null)).ToArray();
        return (fresh, rebuild);

        IEnumerable<UserSequence> TrainedUsers() => DatasetBuilder.Build(SyntheticTraffic.Shoppers(800, 0, 3, 21)).Users;
    }

    internal static double Measure(IAnomalyDetector detector, ScoringInput[] inputs) => Measure(detector, inputs, out _);

    /// <summary>Inputs scored per wall-clock second; <paramref name="perCpuSecond"/>: per second of this process's CPU
    /// time, which a busy shared machine disturbs less (the process should be doing nothing else meanwhile).</summary>
    internal static double Measure(IAnomalyDetector detector, ScoringInput[] inputs, out double perCpuSecond)
    {
        // Warm up first: tiered JIT compiles the hot paths fully only after a while.
        var warmUp = Stopwatch.StartNew();
        do detector.ScoreBatch(inputs);
        while (warmUp.Elapsed.TotalSeconds < Math.Min(2, Seconds));
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long events = 0;
        do
        {
            detector.ScoreBatch(inputs);
            events += inputs.Length;
        }
        while (clock.Elapsed.TotalSeconds < Seconds);
        double wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        perCpuSecond = events / Math.Max(1e-9, (process.TotalProcessorTime - cpu).TotalSeconds);
        return events / wall;
    }

    private static string Build =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
