using System.Text.Json;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Stages.Tests.Alerts;

/// <summary>What an alert tells an analyst: features in plain terms against the model's normal range, device and IP, the scenario family.</summary>
public sealed class AlertForAnalystsTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly SourceStream Stream = new("in.jsonl", 0, 1);

    /// <summary>A card tester's window (three failed payments), its last event new from device "headless" at 198.51.100.7.</summary>
    private static ScoringRequest CardTestingRequest(DecisionLedger ledger)
    {
        var window = new List<WindowEntry> { new("login", T0, float.NaN, 0, 0), new("cart", T0 + 3000, 4f, 11, 2) };
        for (int a = 0; a < 3; a++)
        {
            window.Add(new WindowEntry("checkout", T0 + 10_000 + a * 8000, 4f, 11, 2));
            window.Add(new WindowEntry("pay_fail", T0 + 12_000 + a * 8000, 4f, 11, 2));
        }
        var features = new float[FeatureSchema.Count];
        features[FeatureSchema.IndexOf("count_pay_fail_1m")] = MathF.Log(1 + 3f);
        features[FeatureSchema.IndexOf("device_new")] = 1;
        features[FeatureSchema.IndexOf("devices_distinct")] = 2;
        features[FeatureSchema.IndexOf("ips_distinct")] = 3;
        long time = window[^1].TimestampMs;
        return new ScoringRequest("u-7", 0, window.ToArray(), 1, features, null, 40, T0 - 30L * 86_400_000, [ledger.Admit(Stream, time)],
            UserAlertState.None, RequestTicket.None)
        {
            Devices = ["headless"],
            Ips = ["198.51.100.7"],
        };
    }

    private static Explanation FeatureReason(FeatureNormal? normal) => Explanation.ForFeatures("zscore", 7.5,
    [
        new FeatureContribution("count_pay_fail_1m", MathF.Log(1 + 3f), 0.6) { Normal = normal },
        new FeatureContribution("last_gap_s", MathF.Log(1 + 2f), 0.1) { Normal = normal is null ? null : new FeatureNormal(MathF.Log(1 + 30f), MathF.Log(1 + 3600f), MathF.Log(1 + 7200f)) },
    ]);

    private static AlertRecord Decide(Explanation reason)
    {
        var ledger = new DecisionLedger();
        var decider = new AlertDecider(AlertSettings.Default, ThresholdSettings.Default with { Mode = "fixed" }, _ => new ModelThreshold(3.0, 1.0), ledger, windowSize: 32);
        var request = CardTestingRequest(ledger);
        var decided = new List<DecidedRequest>();
        decider.Offer(new ScoredBatch([request], [new ScoringOutput(9.0, null, reason)], "zscore@1", TimeSpan.Zero), decided);
        return Assert.Single(Assert.Single(decided).Alerts);
    }

    [Fact]
    public void Each_feature_says_what_it_is_in_plain_terms_with_its_raw_value_and_the_normal_range_of_the_models_training_events()
    {
        var alert = Decide(FeatureReason(new FeatureNormal(0, 0, 0)));
        using var json = JsonDocument.Parse(alert.Json);
        var features = json.RootElement.GetProperty("reason").GetProperty("features");

        var payFails = features[0];
        Assert.Equal("count_pay_fail_1m", payFails.GetProperty("feature").GetString());
        Assert.Equal(1.3863, payFails.GetProperty("value").GetDouble()); // the model's scale, as before
        Assert.Equal("failed payments in the last minute", payFails.GetProperty("meaning").GetString());
        Assert.StartsWith("events (time-decayed count", payFails.GetProperty("unit").GetString());
        Assert.Equal(3.0, payFails.GetProperty("raw").GetDouble(), 3);
        Assert.Equal(0, payFails.GetProperty("normal").GetProperty("p99.9").GetDouble());
        Assert.Equal("failed payments in the last minute: 3 (normal users' events: median 0, 99.9% at most 0)", payFails.GetProperty("text").GetString());

        var gap = features[1];
        Assert.Equal(2.0, gap.GetProperty("raw").GetDouble(), 3);
        Assert.Equal("time since the user's previous event: 2 s (normal users' events: median 30 s, 99.9% at most 2 h)", gap.GetProperty("text").GetString());
        Assert.Equal(3600, gap.GetProperty("normal").GetProperty("p99").GetDouble(), 0);
    }

    [Fact]
    public void A_sequence_model_s_alert_names_its_decision_mode()
    {
        var topK = Explanation.ForEvents("gru", 1.9, [new UnexpectedEvent(7, T0 + 34_000, "pay_fail", 1.9f, true, [new ExpectedEvent("purchase", 0.8)])])
            with { Decision = "top-9 (DeepLog: an event outside the model's 9 most likely next events alerts)" };
        using var json = JsonDocument.Parse(Decide(topK).Json);
        Assert.StartsWith("top-9", json.RootElement.GetProperty("reason").GetProperty("decision").GetString(), StringComparison.Ordinal);

        // A detector that does not say (feature models) writes no decision.
        using var plain = JsonDocument.Parse(Decide(FeatureReason(null)).Json);
        Assert.False(plain.RootElement.GetProperty("reason").TryGetProperty("decision", out _));
    }

    [Fact]
    public void A_model_file_without_quantiles_is_quoted_with_its_training_median_labelled_as_such()
    {
        var alert = Decide(Explanation.ForFeatures("zscore", 7.5, [new FeatureContribution("count_pay_fail_1m", MathF.Log(1 + 3f), 1) { Normal = new FeatureNormal(0, null, null) }]));
        using var json = JsonDocument.Parse(alert.Json);
        var feature = json.RootElement.GetProperty("reason").GetProperty("features")[0];
        Assert.Equal("failed payments in the last minute: 3 (median of the model's training events: 0)", feature.GetProperty("text").GetString());
        Assert.False(feature.GetProperty("normal").TryGetProperty("p99.9", out _));
        Assert.StartsWith("training median", feature.GetProperty("normal").GetProperty("source").GetString());
    }

    [Fact]
    public void The_alert_names_the_events_device_and_ip_and_the_scenario_family_a_rule_tells()
    {
        var alert = Decide(FeatureReason(new FeatureNormal(0, 0, 0)));
        using var json = JsonDocument.Parse(alert.Json);
        var root = json.RootElement;
        var context = root.GetProperty("context");
        Assert.Equal("headless", context.GetProperty("device").GetString());
        Assert.Equal("198.51.100.7", context.GetProperty("ip").GetString());
        Assert.True(context.GetProperty("newDevice").GetBoolean());
        Assert.False(context.GetProperty("newIp").GetBoolean());
        Assert.Equal(2, context.GetProperty("devicesSeen").GetInt32());
        Assert.Equal(3, context.GetProperty("ipsSeen").GetInt32());
        Assert.Equal("card_testing", root.GetProperty("scenario").GetProperty("family").GetString());
        Assert.Contains("3 failed payments", root.GetProperty("scenario").GetProperty("rule").GetString());
        // The fields consumers and the restart's read-back use are where they were.
        foreach (string field in new[] { "alertId", "userId", "time", "score", "threshold", "model", "segment", "reason", "window" })
            Assert.True(root.TryGetProperty(field, out _), field);
        Assert.Equal(new EmittedAlert(alert.AlertId, "u-7", alert.TimeMs), EmittedAlert.Parse(alert.Json));
    }

    [Fact]
    public void The_same_decision_gives_the_same_alert_bytes()
    {
        Assert.Equal(Decide(FeatureReason(new FeatureNormal(0, 0, 0))).Json, Decide(FeatureReason(new FeatureNormal(0, 0, 0))).Json);
    }

    [Fact]
    public void Every_feature_of_the_schema_has_a_description_and_its_raw_value_inverts_the_models_scale()
    {
        Assert.Equal(FeatureSchema.Names, FeatureDescriptions.All.Select(d => d.Name));
        Assert.All(FeatureDescriptions.All, d => Assert.False(string.IsNullOrWhiteSpace(d.Meaning) || string.IsNullOrWhiteSpace(d.UnitText), d.Name));
        Assert.Equal(FeatureDescriptions.All.Count, FeatureDescriptions.All.Select(d => d.Meaning).Distinct().Count());
        var refunds = FeatureDescriptions.Of("count_refund_1m");
        Assert.Equal(1.0, refunds.Raw(MathF.Log(2f)), 5);
        Assert.Equal("refunds in the last minute", refunds.Meaning);
        Assert.Equal(0.25, FeatureDescriptions.Of("window_fast_gap_share").Raw(0.25));
        Assert.Equal("25%", FeatureDescriptions.Of("window_fast_gap_share").Format(0.25));
        Assert.Equal("yes", FeatureDescriptions.Of("device_new").Format(1));
        Assert.Equal("1.5 h", FeatureDescriptions.Of("since_login_s").Format(5400));
    }
}
