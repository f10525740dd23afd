using StreamDetect.Models.Training;
using System.Collections.Concurrent;
using System.Diagnostics;
using StreamDetect.Models.Online;
using StreamDetect.Models.Replay;
using TorchSharp;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// The TorchSharp 0.107 Scalar-lifetime defect (<see cref="Native.TorchSharpScalarLifetimeTests"/>) meets a trainer beside
/// a busy stream: fine-tuning rounds (<see cref="ScalarSafeAdam"/>, <see cref="NextEventLoss"/>, calibration replays) run
/// on one thread while another scores batches with the champion as fast as it can and a third forces garbage collections.
/// 20 s by default; STREAMDETECT_ONLINE_STRESS_SECONDS=1800 runs it for the 30 minutes the issue asks for.
/// </summary>
[Collection(OnlineModelsCollection.Name)]
public sealed class FineTuningBesideScoringStressTests(OnlineModels models, ITestOutputHelper output)
{
    [Fact]
    public void Fine_tuning_beside_a_scoring_thread_under_gc_pressure_never_fails()
    {
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("STREAMDETECT_ONLINE_STRESS_SECONDS"), out double s) ? s : 20;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        var failures = new ConcurrentQueue<Exception>();
        long rounds = 0, steps = 0, scoredEvents = 0, collections = 0;
        var options = new OnlineLearningOptions { StepsPerVersion = 20, LearningRate = 0.002, MaxDistance = 0.2 };
        var samples = OnlineModels.SamplesOf(models.Released);
        // The scorer owns the champion; the trainer reads it only to copy it (as the live path will).
        var champion = models.Champion;
        _ = champion.Version;

        void Guarded(Action body)
        {
            try
            {
                torch.set_num_threads(1);
                body();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
                stop.Cancel();
            }
        }
        var trainer = new Thread(() => Guarded(() =>
        {
            var tuner = new SequenceFineTuner(options, OnlineModels.Training);
            while (!stop.IsCancellationRequested)
            {
                var result = tuner.FineTune(champion, null, samples, models.Anchors, stop.Token);
                result.Candidate.Dispose();
                Interlocked.Add(ref steps, result.Steps);
                Interlocked.Increment(ref rounds);
            }
        }));
        var scorer = new Thread(() => Guarded(() =>
        {
            // Batches of 64 users, each user's next event: the stream's shape at full speed.
            while (!stop.IsCancellationRequested)
                Interlocked.Add(ref scoredEvents, StreamingReplay.Run(models.OriginalProbe, champion, new ReplayOptions(64), _ => { }, stop.Token));
        }));
        var pressure = new Thread(() => Guarded(() =>
        {
            var random = new Random(3);
            while (!stop.IsCancellationRequested)
            {
                GC.KeepAlive(new byte[1 << 16]);
                if (random.Next(50) == 0)
                {
                    GC.Collect();
                    Interlocked.Increment(ref collections);
                }
            }
        }));
        var clock = Stopwatch.StartNew();
        Thread[] threads = [trainer, scorer, pressure];
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: {rounds} fine-tuning rounds ({steps} optimizer steps) beside {scoredEvents} scored events, {collections} forced collections");
        var failure = failures.FirstOrDefault();
        Assert.True(failure is null, $"after {rounds} rounds: {failure?.GetType().Name}: {failure?.Message.Split('\n')[0]}");
        Assert.True(rounds >= 1 && steps >= options.StepsPerVersion && scoredEvents > 0, $"{rounds} rounds, {steps} steps, {scoredEvents} scored events");
    }
}
