using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Stages.Tests.Alerts;

/// <summary>What a restarted engine learns from the alerts its output already holds.</summary>
public sealed class AlertRestartTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static ScoringRequest Request(string user, long timeMs) =>
        new(user, 0, [new WindowEntry("view", timeMs, 0, 0, 0)], 1, [], null, 5, T0 - 86_400_000L * 30);

    private static ScoredBatch Scored(params ScoringRequest[] requests) =>
        new(requests, requests.Select(_ => new ScoringOutput(9.0, null, Explanation.ForEvents("zscore@1", 9.0, []))).ToList(), "zscore@1", TimeSpan.Zero);

    private static AlertDecider Decider() =>
        new(AlertSettings.Default with { Cooldown = TimeSpan.FromHours(6) },
            ThresholdSettings.Default with { Mode = "fixed" }, _ => null);

    [Fact]
    public void An_alert_written_as_json_is_read_back_with_its_id_user_and_time()
    {
        var decider = Decider();
        var alert = Assert.Single(decider.Decide(Scored(Request("u-7", T0 + 1234))));
        byte[] json = AlertJson.ToUtf8(alert, AlertSettings.Default);

        var back = EmittedAlert.Parse(json);

        Assert.Equal(new EmittedAlert(alert.AlertId, "u-7", T0 + 1234), back);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"userId\":\"u-1\",\"label\":0}")]
    [InlineData("{\"alertId\":\"a\",\"userId\":\"u-1\",\"time\":\"yesterday\"}")]
    [InlineData("{\"alertId\":\"a\",\"userId\":\"u-1\"")]
    public void Records_that_are_not_alerts_are_not_read_as_alerts(string text) =>
        Assert.Null(EmittedAlert.Parse(System.Text.Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void A_user_alerted_before_the_restart_stays_in_cooldown_from_that_alert()
    {
        var before = Decider();
        var earlier = Assert.Single(before.Decide(Scored(Request("u-1", T0))));
        var emitted = EmittedAlert.Parse(AlertJson.ToUtf8(earlier, AlertSettings.Default))!;

        var restarted = Decider();
        restarted.Remember([emitted]);
        var alerts = restarted.Decide(Scored(Request("u-1", T0 + 60_000), Request("u-2", T0 + 60_000)));

        Assert.Equal(["u-2"], alerts.Select(a => a.UserId)); // u-1 is within 6 h of its earlier alert
        Assert.Equal(["u-1"], restarted.Decide(Scored(Request("u-1", T0 + 7 * 3_600_000L))).Select(a => a.UserId)); // and alerts after it
    }
}
