using StreamDetect.Engine.Cli;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Integration.Tests.Scoring;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.Failures;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Online;

/// <summary>
/// A run whose model schedule can no longer be resolved (the online trainer's fall-back failed: the store of the
/// cluster-wide plans down past its give-up time) stops with that failure, as one line and its documented exit code,
/// instead of waiting at the boundary for ever: `run` end to end on real models, engine and store.
/// </summary>
public sealed class FailedScheduleRunTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_run_whose_schedule_failed_stops_at_the_first_unresolved_boundary_with_the_store_error_and_exit_code_3()
    {
        using var dir = new TempDirectory("sd-failed-schedule-");
        string input = GeneratedInput.Write(dir.File("traffic.jsonl"), users: 100, days: 2, seed: 11);
        string model = QuickModel.TrainAndSave(dir.Path, "zscore", users: 100, days: 2, seed: 4);
        var config = EngineConfig.Load(null, $"streamdetect.store.data-dir = \"{dir.File("data")}\"\n");
        var request = new RunRequest(config, EventSourceKind.File, input, DeadLetterSinkKind.Count, null, model, AlertSinkKind.None, null, null, null, "cpu");
        var down = new EnvironmentFailureException(FailedResource.Store,
            "SQLite store data/streamdetect.db: model plans: write a boundary's plan failed for 30 s (9 attempts; streamdetect.store.retry.give-up-after): database is locked");
        ModelSchedule? schedule = null;
        var job = new RunJob(request, TextWriter.Null)
        {
            Online = start =>
            {
                schedule = new ModelSchedule(new ModelPlan(start.Champion, null, "start"), (long)TimeSpan.FromHours(6).TotalMilliseconds);
                // As the trainer does when its fall-back cannot resolve a boundary either.
                schedule.Fail(down);
                return new OnlineScoring(schedule, null);
            },
        };

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => job.RunAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken));

        Assert.Same(down, CommandRunner.RootCause(failure));
        var (code, line) = CommandRunner.Describe(failure, stopping: false, signalExitCode: null);
        Assert.Equal(ExitCodes.StoreFailure, code);
        Assert.Equal("error: " + down.Message, line);
        // The events before the first boundary were scored by the plan in force; none at or past it.
        Assert.NotNull(schedule);
        Assert.Empty(schedule!.History);
    }
}
