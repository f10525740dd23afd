using System.Diagnostics;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Replay;
using TorchSharp;

namespace StreamDetect.Models.Training;

/// <summary>
/// Trains a detector by name: leaves out labelled users (unless told not to), splits the users into
/// training and validation, trains on the training users, then calibrates scores and fits the alert
/// threshold on a streaming replay of the validation users. Test data is never involved.
/// </summary>
public static class DetectorTrainer
{
    public static IAnomalyDetector Train(string model, BehaviorDataset data, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var kind = DetectorRegistry.Default.Get(model);
        var clock = Stopwatch.StartNew();
        var device = ComputeDevice.Resolve(options.Device);
        var usable = data;
        if (options.ExcludeLabelledUsers && data.HasLabels)
        {
            usable = data.WithoutLabelledUsers();
            Report(progress, clock, $"left out {data.Users.Count - usable.Users.Count} users with labelled anomalous events; training on normal traffic");
        }
        var (training, validation) = usable.SplitUsers(options.ValidationFraction, options.Seed);
        if (training.Users.Count == 0) throw new ArgumentException("no training users (is the training period empty?)");
        if (validation.Users.Count == 0) throw new ArgumentException($"no validation users: {usable.Users.Count} users are too few for a validation share of {options.ValidationFraction}");
        Report(progress, clock, $"{training.Users.Count} training users ({training.EventCount} events), {validation.Users.Count} validation users ({validation.EventCount} events), device {device}");

        var context = new TrainingContext(training, validation, options, device, progress, cancellation, clock);
        var detector = kind.Train(context);
        try
        {
            Calibrate(detector, validation, options, cancellation);
            Report(progress, clock, $"calibrated on the validation users' events after a warm-up of {options.Calibration.WarmUpDays} day(s); version {detector.Version}");
            return detector;
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }

    /// <summary>Fits calibration and threshold from a streaming replay of (normal) validation users.</summary>
    internal static void Calibrate(AnomalyDetector detector, BehaviorDataset validation, TrainingOptions options, CancellationToken cancellation = default)
    {
        var samples = new List<CalibrationSample>((int)Math.Min(int.MaxValue, validation.EntryCount));
        double periodMs = validation.LastEventMs - validation.FirstEventMs;
        long from = validation.FirstEventMs + (long)Math.Min(options.Calibration.WarmUpDays * 86_400_000, periodMs / 3);
        StreamingReplay.Run(validation, detector, new ReplayOptions(options.ScoringBatchSize, from), score =>
        {
            // The replay scores one event per output (the newest); raw scores are read without building explanations.
            var output = score.Output;
            int last = output.Count - 1;
            var members = output.Members;
            double[]? memberRaw = members.Count == 0 ? null : members.Select(m => m.RawScoreAt(last)).ToArray();
            samples.Add(new CalibrationSample(score.UserIndex, Math.DivRem(score.TimestampMs, 86_400_000L).Quotient, output.RawScoreAt(last), memberRaw));
        }, cancellation);
        detector.FitCalibration(samples, options.Calibration);
    }

    private static void Report(IProgress<TrainingProgress>? progress, Stopwatch clock, string message) =>
        progress?.Report(new TrainingProgress("train", 0, 0, double.NaN, null, clock.Elapsed, message));
}
