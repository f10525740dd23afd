using System.Text.Json;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Evaluation;
using StreamDetect.Models.Online;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// A measurement, not a CI test: the generator's drift scenario (a release adds the types <c>assistant</c> and
/// <c>express_checkout</c> and new paths from the drift day), frozen model vs the model after one fine-tuning round on
/// the drift day's normal users, per day. It runs only when <c>STREAMDETECT_DRIFT_DATA</c> names a file written by
/// <c>streamdetect gen --drift-share S --drift-day D --out FILE</c> (its truth file beside it);
/// <c>STREAMDETECT_DRIFT_DAY</c> (default 5), <c>STREAMDETECT_DRIFT_MODEL</c> (default gru) and
/// <c>STREAMDETECT_DRIFT_SAMPLES</c> (users fine-tuned on, default 2000), <c>STREAMDETECT_DRIFT_LR</c> and
/// <c>STREAMDETECT_DRIFT_STEPS</c> (the round's learning rate and steps; default the shipped 0.0003 and 100) set the rest.
/// </summary>
public sealed class DriftScenarioMeasurement(ITestOutputHelper output)
{
    private const long Day = 86_400_000L;

    [Fact]
    public void Frozen_vs_one_fine_tuning_round_on_the_drift_scenario()
    {
        string? path = Environment.GetEnvironmentVariable("STREAMDETECT_DRIFT_DATA");
        Assert.SkipWhen(path is null, "set STREAMDETECT_DRIFT_DATA to a `gen --drift-share` file to measure");
        int driftDay = int.Parse(Environment.GetEnvironmentVariable("STREAMDETECT_DRIFT_DAY") ?? "5");
        string model = Environment.GetEnvironmentVariable("STREAMDETECT_DRIFT_MODEL") ?? "gru";
        int maxSamples = int.Parse(Environment.GetEnvironmentVariable("STREAMDETECT_DRIFT_SAMPLES") ?? "2000");
        var ct = TestContext.Current.CancellationToken;

        var events = EventFile.Read(path!).ToList();
        var scenarios = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.ChangeExtension(path!, null) + ".truth.json"))!;
        var truth = new TruthTable(scenarios);
        long start = events.Min(e => e.TimestampMs) / Day * Day, drift = start + driftDay * Day;
        var sessions = SessionSettings.Default;
        var all = DatasetBuilder.Build(events, 32, sessions);

        // Trained as `train` does by default: the days before the drift, users without an anomalous label.
        var anomalous = events.Where(e => e.Label == 1).Select(e => e.UserId).ToHashSet(StringComparer.Ordinal);
        var before = DatasetBuilder.Build(events.Where(e => e.TimestampMs < drift && !anomalous.Contains(e.UserId)), 32, sessions);
        var training = new TrainingOptions { Device = "cpu" };
        // Trained once per data file and model (kept beside the data).
        string modelPath = $"{path}.{model}.sdm";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (!File.Exists(modelPath))
            using (var trained = DetectorTrainer.Train(model, before, training, cancellation: ct)) trained.Save(modelPath);
        using var frozen = DetectorFile.Load(modelPath, "cpu");
        output.WriteLine($"{model} trained on {before.Users.Count} users (days 0-{driftDay - 1}) or loaded from {modelPath} in {clock.Elapsed.TotalSeconds:F0} s");

        // The drift day's normal users (labelled normal by the truth table), capped, in a fixed order.
        var normal = events.Where(e => e.TimestampMs >= drift && e.TimestampMs < drift + Day && truth.ScenarioOf(e.UserId) == TruthTable.Normal && !anomalous.Contains(e.UserId));
        var dayUsers = DatasetBuilder.Build(normal, 32, sessions).Users.OrderBy(u => (uint)StreamDetect.Models.Features.StableHash.Of(u.UserId)).ThenBy(u => u.UserId, StringComparer.Ordinal).Take(maxSamples).ToArray();
        var samples = dayUsers.Select(u => new OnlineSample(u, null, null, u.LastEventMs, 0, 0)).ToList();
        var anchors = AnchorReservoir.Sample(before, new OnlineLearningOptions().AnchorUsers, seed: 1);

        var options = new OnlineLearningOptions
        {
            LearningRate = double.Parse(Environment.GetEnvironmentVariable("STREAMDETECT_DRIFT_LR") ?? "0.0003", System.Globalization.CultureInfo.InvariantCulture),
            StepsPerVersion = int.Parse(Environment.GetEnvironmentVariable("STREAMDETECT_DRIFT_STEPS") ?? "100"),
        };
        var result = new SequenceFineTuner(options, training).FineTune(frozen, null, samples, anchors, ct);
        using var candidate = result.Candidate;
        output.WriteLine($"one round on cpu: {result.Elapsed.TotalSeconds:F1} s, {result.Steps} steps x {options.BatchSize} chunks, " +
            $"{result.TrainingSamples} samples + {result.AnchorUsers} anchor users, held back {result.HeldBack.Users.Count}");
        output.WriteLine(result.DetailJson());

        var from = new EvaluationOptions(FromMs: start + 3 * Day);
        var frozenReport = Evaluator.Evaluate(frozen, all, truth, from, ct).Report;
        var candidateReport = Evaluator.Evaluate(candidate, all, truth, from, ct).Report;
        // The same candidate calibrated on the held-back users and the anchors (old and new normal behaviour both),
        // to tell the weights' effect from the calibration's: the fine-tuner calibrates on the held-back users alone.
        using var mixed = DetectorCopy.FromBytes(((AnomalyDetector)candidate).ToFile().ToBytes(), "recalibrated", TorchSharp.torch.CPU);
        DetectorTrainer.Calibrate(mixed, new BehaviorDataset([.. result.HeldBack.Users, .. anchors.Users], anchors.WindowCapacity), training, ct);
        var mixedReport = Evaluator.Evaluate(mixed, all, truth, from, ct).Report;
        output.WriteLine("day | normal users | normal alert rate: frozen / fine-tuned / fine-tuned, mixed calibration | recall: frozen / fine-tuned / mixed");
        foreach (var ((f, c), m) in frozenReport.PerDay.Zip(candidateReport.PerDay).Zip(mixedReport.PerDay))
            output.WriteLine($"{f.Day} | {f.NormalUsers} | {f.NormalAlertRate:P2} / {c.NormalAlertRate:P2} / {m.NormalAlertRate:P2} | {f.Recall:P1} / {c.Recall:P1} / {m.Recall:P1}");
        output.WriteLine($"overall normal alert rate: frozen {frozenReport.NormalUserAlertRate:P2}, fine-tuned {candidateReport.NormalUserAlertRate:P2}, mixed {mixedReport.NormalUserAlertRate:P2}; " +
            $"user-level recall: frozen {frozenReport.Overall.Users.Recall:F3}, fine-tuned {candidateReport.Overall.Users.Recall:F3}, mixed {mixedReport.Overall.Users.Recall:F3}");
        Assert.NotEmpty(result.Vocabulary.Assigned);
    }
}
