using System.Text.Json;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Stages.Tests.Alerts;

/// <summary>An alert on a session end marker says why the end was unexpected (<c>reason.sessionEnd</c>), next to the
/// fields every alert has.</summary>
public sealed class SessionEndAlertJsonTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static Alert AlertWith(Explanation reason) => new("a-1", "u-1", T0, 6.2, 3.0, "gru@1", "established", reason,
        new AlertWindow(3, T0 - 60_000, T0, [new("login", 1), new("address_change", 1), new(EventTypes.SessionEnd, 1)], 3,
            ["login", "address_change", EventTypes.SessionEnd]));

    [Fact]
    public void A_verdict_on_a_marker_writes_the_session_end_reason_in_words_and_in_fields()
    {
        var end = new SessionEndReason("address_change", 0.002,
            [new ExpectedEvent("purchase", 0.61), new ExpectedEvent("view", 0.2), new ExpectedEvent(EventTypes.SessionEnd, 0.002)],
            ["purchase", "logout"]);
        var reason = Explanation.ForEvents("gru", 6.2, [new UnexpectedEvent(2, T0, EventTypes.SessionEnd, 6.2, true, end.Expected)]) with { SessionEnd = end };

        using var json = JsonDocument.Parse(AlertJson.ToUtf8(AlertWith(reason), AlertSettings.Default));
        var sessionEnd = json.RootElement.GetProperty("reason").GetProperty("sessionEnd");

        Assert.Equal("session ended after address_change; normal sessions end after purchase, logout; expected next: purchase (p 0.61), view (p 0.2) (p of ending here 0.002)",
            sessionEnd.GetProperty("text").GetString());
        Assert.Equal("address_change", sessionEnd.GetProperty("endedAfter").GetString());
        Assert.Equal(0.002, sessionEnd.GetProperty("pEnd").GetDouble());
        Assert.Equal(["purchase", "logout"], sessionEnd.GetProperty("normalEndsAfter").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("purchase", sessionEnd.GetProperty("expected")[0].GetProperty("type").GetString());
        // The fields every sequence-model alert has are still there.
        Assert.Equal(EventTypes.SessionEnd, json.RootElement.GetProperty("reason").GetProperty("leastExpected")[0].GetProperty("type").GetString());
    }

    [Fact]
    public void A_verdict_on_an_event_has_no_session_end_reason()
    {
        var reason = Explanation.ForEvents("gru", 4.0, [new UnexpectedEvent(1, T0, "address_change", 4.0, true, [])]);
        using var json = JsonDocument.Parse(AlertJson.ToUtf8(AlertWith(reason), AlertSettings.Default));
        Assert.False(json.RootElement.GetProperty("reason").TryGetProperty("sessionEnd", out _));
    }
}
