namespace StreamDetect.Stages.Thresholds;

/// <summary>Users are thresholded by segment: new accounts behave differently from established ones.</summary>
public static class UserSegment
{
    public const string New = "new";
    public const string Established = "established";

    public static string Of(long eventCount, long firstEventMs, long lastEventMs, ThresholdSettings settings) =>
        eventCount < settings.NewUserEvents || lastEventMs - firstEventMs < settings.NewUserAge.TotalMilliseconds ? New : Established;
}
