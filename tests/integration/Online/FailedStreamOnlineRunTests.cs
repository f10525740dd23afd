using StreamDetect.Engine.Cli;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Online;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Integration.Tests.Scoring;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Dataset;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Failures;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Online;

/// <summary>
/// A run with online learning whose stream fails mid-way (here: a stage of the scoring loop throws a store failure)
/// ends with that failure, as one line and its documented exit code, instead of waiting for ever for the online
/// trainer: the boundary the stream had reached could no longer be resolved (the events before it are never decided),
/// and the trainer's thread waited for it while the run's disposal waited for that thread. `run` end to end on a real
/// model, engine and trainer.
/// </summary>
public sealed class FailedStreamOnlineRunTests
{
    // Only detects a hang: the run takes seconds.
    private static readonly TimeSpan HangBound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_run_with_online_learning_whose_stream_fails_mid_way_ends_with_the_failure_and_its_exit_code()
    {
        using var dir = new TempDirectory("sd-failed-online-");
        string input = GeneratedInput.Write(dir.File("traffic.jsonl"), users: 200, days: 3, seed: 11);
        string model = QuickModel.TrainAndSave(dir.Path, "zscore", users: 100, days: 2, seed: 4);
        // The model's own training traffic: the trainer's anchors and canaries.
        var trainedOn = DatasetBuilder.Build(new TrafficGenerator(GeneratorSettings.Default with { Users = 100, Days = 2, Seed = 4 }).Events());
        var config = EngineConfig.Load(null, "streamdetect.store.kind = memory\nstreamdetect.online-learning.enabled = on\nstreamdetect.online-learning.cadence = 2h\n");
        var online = OnlineLearningSettings.Read(config);
        var request = new RunRequest(config, EventSourceKind.File, input, DeadLetterSinkKind.Count, null, model, AlertSinkKind.None, null, null, null, "cpu");
        var down = new EnvironmentFailureException(FailedResource.Store, "SQLite store data/streamdetect.db: write failed for 30 s (streamdetect.store.retry.give-up-after): disk I/O error");
        var failing = new FailingObserver(failAfter: 20, down);
        OnlineTrainer? trainer = null;
        var job = new RunJob(request, TextWriter.Null)
        {
            Online = OnlineRun.Hook(StoreSettings.Create(config), online, TextWriter.Null, trainedOn, failing, t => trainer = t),
        };

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => job.RunAsync(TestContext.Current.CancellationToken).WaitAsync(HangBound, TestContext.Current.CancellationToken));

        Assert.True(ReferenceEquals(down, CommandRunner.RootCause(failure)), $"the run did not end with the stream's failure: {failure}");
        Assert.Equal((ExitCodes.StoreFailure, "error: " + down.Message), CommandRunner.Describe(failure, stopping: false, signalExitCode: null));
        // The failure came mid-stream, with the trainer running and a boundary reached that was never resolved.
        Assert.NotNull(trainer);
        Assert.True(failing.Seen > 20);
    }

    /// <summary>Throws <paramref name="failure"/> from the decision stage once <paramref name="failAfter"/> requests were decided.</summary>
    private sealed class FailingObserver(int failAfter, Exception failure) : IScoringObserver
    {
        private int _seen;

        public int Seen => Volatile.Read(ref _seen);

        public void Decided(DecidedRequest decided, ShadowVerdicts? shadow)
        {
            if (Interlocked.Increment(ref _seen) > failAfter) throw failure;
        }
    }
}
