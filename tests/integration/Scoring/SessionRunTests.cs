using System.Text.Json;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Scoring;

/// <summary>
/// Sessions in whole runs on real SQLite files (README "Sessions in the stream"): the end of the input closes every open session
/// once (a rerun on the same data directory closes none again and writes no alert twice), and
/// <c>streamdetect.entities.key = session</c> makes each session id an entity, an event without one a dead letter.
/// </summary>
public sealed class SessionRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_rerun_on_the_same_data_directory_closes_no_session_again_and_writes_no_alert_twice()
    {
        using var dir = new TempDirectory("sd-sessions-");
        string input = GeneratedInput.Write(dir.File("traffic.jsonl"), users: 150, days: 1, seed: 21);
        string model = QuickModel.TrainAndSave(dir.Path, "zscore", users: 150, days: 1, seed: 4);
        // Low fixed thresholds and no cooldown: many entries alert, session closes among them.
        const string settings = "thresholds { mode = fixed, fixed { new = 1.0, established = 1.0 } }\nalerts.cooldown = 0s";

        var first = await RunAsync(dir, input, model, settings);
        string[] alerts = File.ReadAllLines(dir.File("alerts.jsonl"));
        long closed = first.Entities!.SessionsClosed;
        output.WriteLine($"{closed} sessions closed, {alerts.Length} alerts, {alerts.Count(IsSessionEnd)} of them at a close");
        Assert.InRange(closed, 150, long.MaxValue); // every user's last session closes at the end of the input, at least
        // Every marker is scored: entries scored = events + sessions closed.
        Assert.Equal(first.EventsValid + closed, first.Scoring!.EventsScored);
        Assert.Contains(alerts, IsSessionEnd);

        // The same input again: every event is a replay, every session is closed already.
        var rerun = await RunAsync(dir, input, model, settings);
        Assert.Equal(0, rerun.Entities!.SessionsClosed);
        Assert.Equal(0, rerun.Scoring!.EventsScored);
        Assert.Equal(alerts, File.ReadAllLines(dir.File("alerts.jsonl")));
    }

    [Fact]
    public async Task With_entities_keyed_by_session_each_session_id_is_an_entity_and_an_event_without_one_is_a_dead_letter_naming_the_field()
    {
        using var dir = new TempDirectory("sd-session-key-");
        string input = dir.File("log.jsonl");
        var lines = new List<string>();
        var t0 = new DateTime(2026, 1, 5, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i < 400; i++)
        {
            // 40 sessions of one "user" (a host), interleaved: one sequence per session id.
            string time = t0.AddSeconds(i).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
            lines.Add($$"""{"userId":"host-1","ts":"{{time}}","type":"k{{i % 7}}","session":"blk-{{i % 40}}"}""");
            if (i % 100 == 0) lines.Add($$"""{"userId":"host-1","ts":"{{time}}","type":"k1"}""");
        }
        File.WriteAllLines(input, lines);

        string deadLetters = dir.File("dead.jsonl");
        var config = EngineConfig.Load(null, $$"""
            streamdetect {
              store.data-dir = "{{dir.File("data")}}"
              entities.key = session
            }
            """);
        var request = new RunRequest(config, EventSourceKind.File, input, DeadLetterSinkKind.File, deadLetters, null, AlertSinkKind.None, null, null, null, "cpu",
            IngestOnly: true);
        var outcome = await new RunJob(request, TextWriter.Null).RunAsync(TestContext.Current.CancellationToken)
            .WaitAsync(Timeout, TestContext.Current.CancellationToken);
        var summary = outcome.Summary;

        Assert.Equal(400, summary.EventsValid);
        Assert.Equal(4, summary.DeadLetters);
        Assert.Equal(4, summary.DeadLetterReasons["missing_field"]);
        var letter = JsonDocument.Parse(File.ReadLines(deadLetters).First()).RootElement;
        Assert.Contains("session is missing", letter.GetProperty("detail").GetString());
        Assert.Contains("streamdetect.entities.key", letter.GetProperty("detail").GetString());
        Assert.Equal(40, summary.Entities!.UsersInState); // the entities are the 40 sessions, not the one host
        Assert.Equal("session", summary.Entities.EntityKey);
        Assert.Equal(40, summary.Entities.SessionsClosed); // each closes once, at the end of the input
    }

    private static bool IsSessionEnd(string line) => JsonDocument.Parse(line).RootElement.TryGetProperty("sessionEnd", out _);

    private static async Task<RunSummary> RunAsync(TempDirectory dir, string input, string model, string settings)
    {
        var config = EngineConfig.Load(null, $$"""
            streamdetect {
              store.data-dir = "{{dir.File("data")}}"
              {{settings}}
            }
            """);
        var request = new RunRequest(config, EventSourceKind.File, input, DeadLetterSinkKind.Count, null, model, AlertSinkKind.File, dir.File("alerts.jsonl"), null, null, "cpu");
        var outcome = await new RunJob(request, TextWriter.Null).RunAsync(TestContext.Current.CancellationToken)
            .WaitAsync(Timeout, TestContext.Current.CancellationToken);
        outcome.Model?.Detector.Dispose();
        return outcome.Summary;
    }
}
