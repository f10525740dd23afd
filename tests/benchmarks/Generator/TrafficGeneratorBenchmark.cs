using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using StreamDetect.Benchmarks.Support;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Benchmarks.Generator;

/// <summary>
/// Generation of labelled traffic to a JSON Lines file, as `streamdetect gen` does it (goal: at least
/// 300k events/s on the 2-core reference machine). The events/s column divides the events of one run
/// (counted by generating the same traffic once in the host process) by the mean time of a run.
/// </summary>
[Config(typeof(EventsPerSecondConfig))]
[MemoryDiagnoser]
public class TrafficGeneratorBenchmark
{
    private GeneratorSettings _settings = GeneratorSettings.Default;
    private string _path = "";

    /// <summary>Users of one run (7 days, default anomaly rate): ~350k events for 2000 users.</summary>
    [Params(2000)]
    public int Users { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _settings = Settings(Users);
        _path = Path.Combine(Path.GetTempPath(), $"streamdetect-gen-bench-{Environment.ProcessId}.jsonl");
    }

    private static GeneratorSettings Settings(int users) => GeneratorSettings.Default with { Users = users, Days = 7, Seed = 7 };

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark(Description = "generate to file")]
    public long GenerateToFile()
    {
        using var file = new FileStream(_path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        return GeneratedTrafficWriter.WriteEvents(new TrafficGenerator(_settings), file).Events;
    }

    [Benchmark(Description = "generate only")]
    public long GenerateOnly()
    {
        long count = 0;
        foreach (var _ in new TrafficGenerator(_settings).Events()) count++;
        return count;
    }

    private sealed class EventsPerSecondConfig : ManualConfig
    {
        private static readonly Dictionary<int, long> EventsByUsers = [];

        public EventsPerSecondConfig() =>
            AddColumn(new EventsPerSecondColumn("Events generated per second (events of one run / mean time of a run)", EventsPerRun));

        private static double EventsPerRun(BenchmarkCase benchmarkCase)
        {
            int users = (int)benchmarkCase.Parameters["Users"];
            lock (EventsByUsers)
            {
                if (!EventsByUsers.TryGetValue(users, out long events))
                    EventsByUsers[users] = events = new TrafficGenerator(Settings(users)).Events().LongCount();
                return events;
            }
        }
    }
}
