using System.Text.Json;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Scoring;

/// <summary>
/// Issue 11's scoring side end to end (`run` with a model schedule, real models, engine and store): a scripted
/// resolver (a trainer without training) starts a shadow at one boundary and promotes it at a later one while the
/// stream runs. Every event is decided once, by the champion in force at its order key; users' model states of the old
/// version are rebuilt by the new one; the shadow's alerts reach the shadow file only; nothing at or past an
/// unresolved boundary is decided; runs give the same bytes, whatever the batching.
/// </summary>
public sealed class ModelScheduleRunTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan Grid = TimeSpan.FromHours(6);
    private const int ShadowAt = 1, PromoteAt = 3;

    private sealed record Outcome(string[] Alerts, string[] ShadowAlerts, RecordingObserver Observer, IReadOnlyList<(long Boundary, long Undecided)> Resolved,
        RunSummary Summary, string Champion, string Candidate);

    [Fact]
    public async Task A_champion_swapped_mid_stream_scores_each_event_once_by_the_plan_at_its_key_rebuilds_old_states_and_its_shadow_never_reaches_the_alert_sink_the_same_on_every_run()
    {
        using var dir = new TempDirectory("sd-schedule-");
        string input = GeneratedInput.Write(dir.File("traffic.jsonl"), users: 300, days: 2, seed: 11);
        Directory.CreateDirectory(dir.File("v1"));
        Directory.CreateDirectory(dir.File("v2"));
        string v1Path = QuickModel.TrainAndSave(dir.File("v1"), "novelty", users: 300, days: 2, seed: 4);
        string v2Path = QuickModel.TrainAndSave(dir.File("v2"), "novelty", users: 300, days: 2, seed: 8);

        var first = await RunAsync(dir, "first", input, v1Path, v2Path);
        var again = await RunAsync(dir, "again", input, v1Path, v2Path);
        var small = await RunAsync(dir, "small", input, v1Path, v2Path, """

            scoring.batcher { max-batch = 1, max-wait = 1ms }
            routing { max-batch = 3, max-wait = 1ms, parallelism = 1 }
            """);
        string v1 = first.Champion, v2 = first.Candidate;
        Assert.NotEqual(v1, v2);

        // The plan: v1, then v2 in shadow from boundary ShadowAt, then v2 the champion from boundary PromoteAt.
        Assert.InRange(first.Resolved.Count, PromoteAt + 2, 100);
        long shadowFrom = first.Resolved[ShadowAt].Boundary, promotedAt = first.Resolved[PromoteAt].Boundary;
        var seen = first.Observer.Seen.ToArray();
        output.WriteLine($"{seen.Length} requests decided, {first.Alerts.Length} alerts, {first.ShadowAlerts.Length} shadow alerts; " +
                         $"boundaries {string.Join(", ", first.Resolved.Select(r => $"{r.Boundary} ({r.Undecided} undecided)"))}");

        // Every event decided exactly once, none lost: each user's events 1..N, once each.
        foreach (var user in seen.GroupBy(s => s.Decided.Request.UserId))
        {
            var indices = user.SelectMany(s => Enumerable.Range(0, s.Decided.Request.NewEvents).Select(j => s.Decided.Request.EventIndexOf(j))).Order().ToArray();
            Assert.Equal(Enumerable.Range(1, indices.Length).Select(i => (long)i), indices);
        }
        Assert.Equal(first.Summary.Scoring!.EventsScored, seen.Sum(s => (long)s.Decided.Request.NewEvents));
        Assert.Equal(first.Summary.EventsValid + first.Summary.Entities!.SessionsClosed, first.Summary.Scoring.EventsScored);

        // Each request was scored by the champion in force at its keys (a request never straddles a change), with the
        // shadow exactly while the plan had one.
        foreach (var (decided, shadow) in seen)
        {
            var keys = decided.Request.OrderKeys;
            Assert.True(keys[^1] < promotedAt || keys[0] >= promotedAt, $"a request straddles the promotion: {keys[0]}..{keys[^1]}");
            Assert.Equal(keys[0] >= promotedAt ? v2 : v1, decided.Model);
            bool shadowed = keys[0] >= shadowFrom && keys[0] < promotedAt;
            Assert.Equal(shadowed, shadow is not null);
            if (shadow is not null) Assert.Equal(v2, shadow.Model);
        }
        Assert.Equal(0, first.Observer.DecidedPastUnresolved);
        Assert.Contains(first.Resolved, r => r.Undecided > 0); // events were held at a boundary while those before it completed

        // The alert sink has the champions' alerts only, each once, each naming the version that scored it.
        var championAlerts = seen.SelectMany(s => s.Decided.Alerts).ToList();
        var shadowAlerts = seen.Where(s => s.Shadow is not null).SelectMany(s => s.Shadow!.Alerts).ToList();
        var sinkIds = first.Alerts.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("alertId").GetString()!).ToList();
        Assert.Equal(sinkIds.Count, sinkIds.Distinct().Count());
        Assert.Equal(championAlerts.Select(a => a.AlertId).Order(), sinkIds.Order());
        foreach (var alert in championAlerts)
            Assert.Equal(alert.OrderKey >= promotedAt ? v2 : v1, JsonDocument.Parse(alert.Json).RootElement.GetProperty("model").GetString());
        Assert.Contains(championAlerts, a => a.OrderKey >= promotedAt);
        Assert.Contains(championAlerts, a => a.OrderKey < promotedAt);
        Assert.NotEmpty(shadowAlerts);
        Assert.Empty(shadowAlerts.Select(a => a.AlertId).Intersect(sinkIds));
        var shadowFileIds = first.ShadowAlerts.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("alertId").GetString()!).ToList();
        Assert.Equal(shadowAlerts.Select(a => a.AlertId).Order(), shadowFileIds.Order());
        Assert.All(first.ShadowAlerts, line => Assert.Equal(v2, JsonDocument.Parse(line).RootElement.GetProperty("model").GetString()));

        // Users' model states of v1 are not used by v2: rebuilt from the window, then carried as v2's.
        using var v2Copy = ModelProvider.Load(v2Path, "cpu");
        var firstUnderV2 = seen.Where(s => s.Decided.Model == v2).GroupBy(s => s.Decided.Request.UserId)
            .Select(g => g.OrderBy(s => s.Decided.Request.EventCount).ToArray()).ToList();
        var rebuilt = firstUnderV2.Where(requests => requests[0].Decided.Request.State?.ModelKey == v1).Select(requests => requests[0].Decided).ToList();
        Assert.NotEmpty(rebuilt);
        foreach (var d in rebuilt.Take(50))
        {
            var r = d.Request;
            Assert.Equal(v2, d.Output.NewState!.ModelKey);
            Assert.Equal(r.EventCount, d.Output.NewState.EventsFolded);
            var fromWindow = v2Copy.ScoreBatch([new ScoringInput(r.UserId, r.Window, r.NewEvents, r.Features, null, r.EventCount)])[0];
            Assert.Equal(Enumerable.Range(0, r.NewEvents).Select(fromWindow.ScoreAt), Enumerable.Range(0, r.NewEvents).Select(d.Output.ScoreAt));
        }
        Assert.Contains(firstUnderV2, requests => requests.Length > 1 && requests[1].Decided.Request.State?.ModelKey == v2);

        // The run report names both versions and the plan changes.
        Assert.Equal(new[] { v1, v2 }.Order(), first.Summary.Scoring.EventsByModel!.Keys.Order());
        Assert.Equal(["shadow", "promote"], first.Summary.Scoring.PlanChanges!.Select(c => c.Reason));
        Assert.Equal(first.ShadowAlerts.Length, first.Summary.Scoring.ShadowAlerts);

        // The same input, models and plans: the same bytes, whatever the batching.
        Assert.Equal(first.Alerts, again.Alerts);
        Assert.Equal(first.ShadowAlerts, again.ShadowAlerts);
        Assert.Equal(first.Resolved.Select(r => r.Boundary), again.Resolved.Select(r => r.Boundary));
        Assert.Equal(first.Alerts, small.Alerts);
        Assert.Equal(first.ShadowAlerts, small.ShadowAlerts);
    }

    /// <summary>One `run` over the file with a schedule on a 6 h grid driven by the script; returns what it wrote and saw.</summary>
    private static async Task<Outcome> RunAsync(TempDirectory dir, string name, string input, string v1Path, string v2Path, string settings = "")
    {
        string alerts = dir.File($"alerts-{name}.jsonl"), shadowAlerts = dir.File($"shadow-{name}.jsonl");
        var config = EngineConfig.Load(null, $$"""
            streamdetect {
              store.data-dir = "{{dir.File($"data-{name}")}}"
              thresholds { mode = online, warmup-user-days = 200, update-interval = 1h, delay = 3h, alert-rate = 0.2, reference-rate = 0.05 }
              alerts.cooldown = 30m
              {{settings}}
            }
            """);
        var request = new RunRequest(config, EventSourceKind.File, input, DeadLetterSinkKind.Count, null, v1Path, AlertSinkKind.File, alerts, null, null, "cpu")
        {
            ShadowAlertsPath = shadowAlerts,
        };
        ModelSchedule? schedule = null;
        ScriptedResolver? resolver = null;
        string? candidate = null;
        var observer = new RecordingObserver(() => schedule);
        var job = new RunJob(request, TextWriter.Null)
        {
            Online = start =>
            {
                var v2 = ModelProvider.Load(v2Path, "cpu");
                candidate = v2.StateKey;
                schedule = new ModelSchedule(new ModelPlan(start.Champion, null, "start"), (long)Grid.TotalMilliseconds);
                resolver = new ScriptedResolver(schedule, start.Ledger, (n, before) => n switch
                {
                    ShadowAt => new ModelPlan(before.Champion, v2, "shadow"),
                    PromoteAt => new ModelPlan(v2, null, "promote"),
                    _ => before with { Reason = "unchanged" },
                });
                return new OnlineScoring(schedule, observer, resolver);
            },
        };
        var outcome = await job.RunAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        string champion = outcome.Model!.Detector.StateKey;
        outcome.Model.Detector.Dispose();
        Assert.Null(resolver!.Failure);
        var lines = File.ReadAllLines(alerts);
        Assert.Equal(outcome.Summary.Alerts, lines.Length);
        return new Outcome(lines, File.Exists(shadowAlerts) ? File.ReadAllLines(shadowAlerts) : [], observer, resolver.Resolved, outcome.Summary, champion, candidate!);
    }
}
