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
        // Entities that came and went within the warm-up (sessions, short visits) have no history to build: they are
        // scored from their first event, as entities that start after it are, instead of being lost to the sample.
        var within = validation.Users.Where(u => u.LastEventMs < from).ToArray();
        var after = validation.Users.Where(u => u.LastEventMs >= from).ToArray();
        Collect(within, long.MinValue, 0);
        Collect(after, from, within.Length);
        void Collect(UserSequence[] users, long scoreFrom, int userOffset)
        {
            if (users.Length == 0) return;
            StreamingReplay.Run(new BehaviorDataset(users, validation.WindowCapacity), detector, new ReplayOptions(options.ScoringBatchSize, scoreFrom), score =>
            {
                // The replay scores one event per output (the newest); raw scores are read without building explanations.
                var output = score.Output;
                int last = output.Count - 1;
                var members = output.Members;
                double[]? memberRaw = members.Count == 0 ? null : members.Select(m => m.RawScoreAt(last)).ToArray();
                samples.Add(new CalibrationSample(userOffset + score.UserIndex, score.TimestampMs, output.RawScoreAt(last), memberRaw));
            }, cancellation);
        }
        // The validation entities' active days over the whole validation data (warm-up included): their lifetimes
        // tell entities that come and go (sessions) from long-lived ones the window cuts.
        detector.FitCalibration(samples, options.Calibration, Evaluation.Evaluator.ActivityOf(validation, long.MinValue));
    }

    private static void Report(IProgress<TrainingProgress>? progress, Stopwatch clock, string message) =>
        progress?.Report(new TrainingProgress("train", 0, 0, double.NaN, null, clock.Elapsed, message));
}
