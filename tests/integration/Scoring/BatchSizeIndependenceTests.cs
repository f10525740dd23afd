using System.Text.Json;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Scoring;

/// <summary>
/// How the scorer batches requests must not change what is alerted: the same traffic, model and
/// thresholds give the same alertIds with streamdetect.scoring.batcher.max-batch 1 and 1024.
/// </summary>
public sealed class BatchSizeIndependenceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("zscore")]
    [InlineData("gru")]
    public async Task The_same_traffic_gives_the_same_alert_ids_with_max_batch_1_and_1024(string model)
    {
        using var dir = new TempDirectory("sd-batches-");
        string input = GeneratedInput.Write(dir.File("traffic.jsonl"), users: 300, days: 3, seed: 11);
        string modelPath = QuickModel.TrainAndSave(dir.Path, model, users: 300, days: 2, seed: 4, epochs: 1);

        var one = await RunAsync(dir, input, modelPath, maxBatch: 1);
        var many = await RunAsync(dir, input, modelPath, maxBatch: 1024);

        output.WriteLine($"{model}: {one.Users} users; max-batch 1: {one.AlertIds.Count} alerts on {one.AlertedUsers} users in {one.Batches} batches; " +
            $"max-batch 1024: {many.AlertIds.Count} alerts in {many.Batches} batches");
        // Both runs scored the same requests, batched as configured.
        Assert.Equal(one.Requests, many.Requests);
        Assert.Equal(one.Requests, one.Batches);
        Assert.True(many.Batches < many.Requests / 100.0, $"max-batch 1024 should score large batches ({many.Requests} requests in {many.Batches} batches)");
        // The thresholds make the comparison meaningful: a fair number of alerts, and not on every user.
        Assert.InRange(one.AlertIds.Count, 10, int.MaxValue);
        Assert.InRange(one.AlertedUsers, 1, one.Users / 2);

        Assert.Equal(one.AlertIds.Count, one.AlertIds.Distinct().Count());
        Assert.Equal(many.AlertIds.Count, many.AlertIds.Distinct().Count());
        var onlyOne = one.AlertIds.Except(many.AlertIds).Select(id => one.Describe[id]).ToList();
        var onlyMany = many.AlertIds.Except(one.AlertIds).Select(id => many.Describe[id]).ToList();
        Assert.True(onlyOne.Count == 0 && onlyMany.Count == 0,
            $"alerts only with max-batch 1: [{string.Join(", ", onlyOne)}]; only with max-batch 1024: [{string.Join(", ", onlyMany)}]");
        Assert.Equal(one.AlertIds.Order(StringComparer.Ordinal), many.AlertIds.Order(StringComparer.Ordinal));
    }

    /// <param name="Describe">alertId -> "userId at time, score" (for the failure message).</param>
    private sealed record RunResult(List<string> AlertIds, Dictionary<string, string> Describe, int AlertedUsers, int Users, long Requests, long Batches);

    /// <summary>One `run` over the file with its own data directory (a second run over persisted input would be dropped as a replay).</summary>
    private static async Task<RunResult> RunAsync(TempDirectory dir, string input, string model, int maxBatch)
    {
        string alerts = dir.File($"alerts-{maxBatch}.jsonl");
        // Fixed thresholds at 1.0 (a normal user-day in 10 reaches it) give a few dozen alerts here.
        // Routing closes its batches by size only (max-wait 1h; the end of the file flushes the last one): a time-closed
        // routing batch would change which of a user's events arrive together in one scoring request, which is not what
        // is compared. The scorer's max-wait of 1h likewise makes every batch of the 1024 run a full one but the last.
        var config = EngineConfig.Load(null, $$"""
            streamdetect {
              store.data-dir = "{{dir.File($"data-{maxBatch}")}}"
              routing { max-batch = 64, max-wait = 1h }
              scoring.batcher { max-batch = {{maxBatch}}, max-wait = 1h }
              thresholds { mode = fixed, fixed { new = 1.0, established = 1.0 } }
            }
            """);
        var request = new RunRequest(config, "file", input, "count", null, model, "file", alerts, null, null, "cpu");
        var outcome = await new RunJob(request, TextWriter.Null).RunAsync(TestContext.Current.CancellationToken)
            .WaitAsync(Timeout, TestContext.Current.CancellationToken);
        outcome.Model?.Detector.Dispose();

        var ids = new List<string>();
        var describe = new Dictionary<string, string>(StringComparer.Ordinal);
        var users = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(alerts))
        {
            using var alert = JsonDocument.Parse(line);
            var a = alert.RootElement;
            string id = a.GetProperty("alertId").GetString()!, user = a.GetProperty("userId").GetString()!;
            ids.Add(id);
            users.Add(user);
            describe[id] = $"{id} {user} at {a.GetProperty("time").GetString()} score {a.GetProperty("score").GetDouble()}";
        }
        var summary = outcome.Summary;
        Assert.Equal(summary.Alerts, ids.Count);
        return new RunResult(ids, describe, users.Count, summary.Users, summary.Scoring!.RequestsScored, summary.Scoring.Batches);
    }
}
