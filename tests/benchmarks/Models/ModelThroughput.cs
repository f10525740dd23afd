using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Reconstruction;
using StreamDetect.Models.Sequence;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Benchmarks.Models;

/// <summary>
/// The networks' forward pass alone, per batch size, on a device: sequences/s and p50/p99 batch latency, with random
/// weights and the default hyper-parameters of hocon/streamdetect.conf (lstm/gru: field embedding 16, hidden 64, 1 layer;
/// transformer: field embedding 16, 4 heads, 2 layers, feed-forward 128; ae: hidden 64, bottleneck 12 over the
/// feature vector), windows of 32 events of 4 fields. tests/benchmarks/gpu/model_throughput.py builds the same
/// architectures in python torch and times them the same way (warm-up, then each batch timed from the call to
/// <c>torch.cuda.synchronize()</c>), so the two JSON files compare directly (tests/benchmarks/gpu/compare_throughput.py).
/// <code>StreamDetect.Benchmarks model-throughput --kinds lstm,gru,transformer,ae --device cuda --batch-sizes 1,64,256,1024,4096 [--seconds 1] [--json FILE]</code>
/// </summary>
public static class ModelThroughput
{
    /// <summary>Vocabulary sizes used for the random networks (the python script takes the same values).</summary>
    public const int EmbeddingRows = 128, Types = 64, GapBuckets = 16, Window = 32, Fields = 4;

    public static int Run(string[] args)
    {
        var kinds = (Option(args, "--kinds") ?? "lstm,gru,transformer,ae").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var sizes = (Option(args, "--batch-sizes") ?? "1,64,256,1024,4096").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        double seconds = double.Parse(Option(args, "--seconds") ?? "1", CultureInfo.InvariantCulture);
        int warmup = int.Parse(Option(args, "--warmup") ?? "10", CultureInfo.InvariantCulture);
        int maxIterations = int.Parse(Option(args, "--max-iterations") ?? "1000", CultureInfo.InvariantCulture);
        string? json = Option(args, "--json");
        var device = ComputeDevice.Resolve(Option(args, "--device") ?? "auto");
        if (Option(args, "--torch-threads") is { } threads) torch.set_num_threads(int.Parse(threads, CultureInfo.InvariantCulture));
        torch.manual_seed(7);

        var models = new List<object>();
        foreach (string kind in kinds)
        {
            using var network = Build(kind);
            network.to(device);
            network.eval();
            var batches = new List<object>();
            foreach (int size in sizes)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var input = kind == "ae"
                    ? randn(size, FeatureSchema.Count, device: device)
                    : randint(0, EmbeddingRows, [size, Window, Fields], dtype: ScalarType.Int64, device: device);
                for (int i = 0; i < warmup; i++) Forward(network, kind, input);
                Synchronize(device);
                var latencies = new List<double>();
                var total = Stopwatch.StartNew();
                while (latencies.Count < maxIterations && (latencies.Count < 5 || total.Elapsed.TotalSeconds < seconds))
                {
                    long start = Stopwatch.GetTimestamp();
                    Forward(network, kind, input);
                    Synchronize(device);
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                var sorted = latencies.Order().ToArray();
                double perSecond = size * latencies.Count / (latencies.Sum() / 1000);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"torchsharp {kind,-11} {device.type,-4} batch {size,5}: {perSecond,12:F0} sequences/s  p50 {Percentile(sorted, 0.5),8:F3} ms  p99 {Percentile(sorted, 0.99),8:F3} ms  ({latencies.Count} batches)"));
                batches.Add(new
                {
                    batch = size,
                    iterations = latencies.Count,
                    sequences_per_s = perSecond,
                    p50_ms = Percentile(sorted, 0.5),
                    p99_ms = Percentile(sorted, 0.99),
                    mean_ms = latencies.Average(),
                });
            }
            models.Add(new { kind, parameters = network.parameters().Sum(p => p.numel()), batches });
        }
        var report = new
        {
            implementation = "torchsharp",
            device = device.ToString(),
            window = Window,
            fields = Fields,
            embedding_rows = EmbeddingRows,
            types = Types,
            gap_buckets = GapBuckets,
            features = FeatureSchema.Count,
            models,
        };
        if (json is not null) File.WriteAllText(json, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static nn.Module Build(string kind) => kind switch
    {
        "lstm" => new RecurrentNextEventNetwork(RecurrentCell.Lstm, EmbeddingRows, fieldEmbedding: 16, hidden: 64, layers: 1, Types, GapBuckets),
        "gru" => new RecurrentNextEventNetwork(RecurrentCell.Gru, EmbeddingRows, fieldEmbedding: 16, hidden: 64, layers: 1, Types, GapBuckets),
        "transformer" => new CausalTransformerNetwork(EmbeddingRows, fieldEmbedding: 16, heads: 4, layers: 2, feedForward: 128, maxPositions: Window, Types, GapBuckets),
        "ae" => new AutoencoderNetwork(FeatureSchema.Count, hidden: 64, bottleneck: 12),
        _ => throw new ArgumentException($"--kinds: '{kind}' is not one of lstm, gru, transformer, ae"),
    };

    /// <summary>One forward pass as the detectors score a window: the sequence networks' type and gap logits at every position.</summary>
    private static void Forward(nn.Module network, string kind, Tensor input)
    {
        using var scope = NewDisposeScope();
        switch (network)
        {
            case RecurrentNextEventNetwork recurrent:
                recurrent.PredictSequence(input);
                break;
            case CausalTransformerNetwork transformer:
                transformer.call(input);
                break;
            case AutoencoderNetwork autoencoder:
                autoencoder.call(input);
                break;
            default:
                throw new ArgumentException($"no forward for {kind}");
        }
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }

    private static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
