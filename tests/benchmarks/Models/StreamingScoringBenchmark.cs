using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using StreamDetect.Benchmarks.Support;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Sources;
using TorchSharp;

namespace StreamDetect.Benchmarks.Models;

/// <summary>
/// Scoring in the streaming shape: one batch of 1024 users, one new event each. "kept state": every user's
/// detector state comes from the batch before (one recurrent or cached Transformer step per event); "rebuilt
/// state": no state, so the sequence models rebuild it from the 32-event window (what re-running windows costs;
/// the Transformer steps through the window's blocks). Models are trained in the setup on generated traffic
/// (3000 users, 3 days; short epochs: the cost of scoring does not depend on how well a model learned).
/// With SD_BENCH_MODELS (saved model files, comma-separated) and SD_BENCH_DATA (an event file) set, those
/// models are scored instead, on users of that file (the shape of the figures in a models report).
/// Goals on the 2-core reference machine: LSTM >= 200k events/s, default ensemble >= 150k events/s.
/// </summary>
[Config(typeof(EventsPerSecondConfig))]
public class StreamingScoringBenchmark
{
    private const int BatchSize = 1024;

    private IAnomalyDetector? _detector;
    private ScoringInput[] _kept = [];
    private ScoringInput[] _rebuilt = [];

    /// <summary>A model kind trained in the setup, or a saved model file (SD_BENCH_MODELS).</summary>
    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "lstm";

    public static IEnumerable<string> Models() =>
        Environment.GetEnvironmentVariable("SD_BENCH_MODELS") is { Length: > 0 } files
            ? files.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["lstm", "gru", "transformer", "ensemble", "ae", "zscore", "iforest", "knn"];

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1); // the HOCON default (streamdetect.models.torch-threads)
        BehaviorDataset data;
        if (Model.EndsWith(".sdm", StringComparison.OrdinalIgnoreCase) || File.Exists(Model))
        {
            string events = Environment.GetEnvironmentVariable("SD_BENCH_DATA") is { Length: > 0 } path
                ? path
                : throw new InvalidOperationException("SD_BENCH_MODELS names model files: set SD_BENCH_DATA to the event file to score them on");
            data = DatasetBuilder.Build(EventFile.Read(events).Take(1_500_000));
            _detector = DetectorFile.Load(Model, "cpu");
        }
        else
        {
            var settings = GeneratorSettings.Default with { Users = 3000, Days = 3, Seed = 7 };
            data = DatasetBuilder.Build(new TrafficGenerator(settings).Events());
            var options = new TrainingOptions { Device = "cpu", Epochs = 1 };
            _detector = DetectorTrainer.Train(Model, data, options);
        }

        var pairs = data.Users.Where(u => u.Count >= 40).Take(BatchSize).Select(u => u.Replay(32).TakeLast(2).ToArray()).ToList();
        while (pairs.Count < BatchSize) pairs.AddRange(pairs.Take(BatchSize - pairs.Count).ToArray());
        var before = _detector.ScoreBatch(pairs.Select(p => p[0].ToScoringInput(null)).ToArray());
        _kept = pairs.Select((p, i) => p[1].ToScoringInput(before[i].NewState)).ToArray();
        _rebuilt = pairs.Select(p => p[1].ToScoringInput(null)).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _detector?.Dispose();

    [Benchmark(Description = "kept state")]
    public int KeptState() => _detector!.ScoreBatch(_kept).Length;

    [Benchmark(Description = "rebuilt state")]
    public int RebuiltState() => _detector!.ScoreBatch(_rebuilt).Length;

    private sealed class EventsPerSecondConfig : ManualConfig
    {
        public EventsPerSecondConfig() =>
            AddColumn(new EventsPerSecondColumn("Events scored per second (batch of 1024 users, one new event each)", _ => BatchSize));
    }
}
