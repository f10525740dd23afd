using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Integration.Tests.Scoring;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// The earlier design's stall, reproduced end to end: scoring on, snapshots due every few hundred events,
/// scoring confirmations flushed on their own every few milliseconds, so snapshots keep falling due while
/// confirmation rows are in flight. Every snapshot must come within a bounded time and the run complete.
/// </summary>
public sealed class SnapshotStallTests(ITestOutputHelper output)
{
    [Fact]
    public async Task With_frequent_snapshots_and_interleaved_confirmation_flushes_a_scoring_run_completes()
    {
        using var dir = new TempDirectory("sd-stall-");
        string input = GeneratedInput.Write(dir.File("traffic.jsonl"), users: 1500, days: 2, seed: 23);
        string model = QuickModel.TrainAndSave(dir.Path, "zscore", users: 300, days: 2, seed: 4);
        var config = EngineConfig.Load(null, $$"""
            streamdetect {
              store.data-dir = "{{dir.File("data")}}"
              entities { snapshot-every = 200, scored-marks-flush = 5ms }
              routing { max-batch = 256, ask-timeout = 20s }
              # A stall shows as an ask timeout within 20 s: the store's bounds on a write (retries included) stay below it.
              store.retry.give-up-after = 5s
              store.sqlite.journal.circuit-breaker.call-timeout = 10s
              store.sqlite.snapshot-store.circuit-breaker.call-timeout = 10s
            }
            """);
        var request = new RunRequest(config, EventSourceKind.File, input, DeadLetterSinkKind.Count, null, model, AlertSinkKind.None, null, null, null, "cpu");
        var outcome = await new RunJob(request, TextWriter.Null).RunAsync(TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromMinutes(3), TestContext.Current.CancellationToken);
        outcome.Model?.Detector.Dispose();

        var s = outcome.Summary;
        output.WriteLine($"{s.EventsValid} events, {s.Entities!.Snapshots} snapshots, {s.Entities.JournalRows} journal rows, {s.Scoring!.EventsScored} events scored");
        Assert.Equal(s.EventsValid, s.Entities.EventsPersisted);
        Assert.Equal(s.EventsValid + s.Entities.SessionsClosed, s.Scoring.EventsScored); // every event and session end marker
        Assert.True(s.Entities.Snapshots > 50, $"snapshots should have been taken often, were {s.Entities.Snapshots}");
    }
}
