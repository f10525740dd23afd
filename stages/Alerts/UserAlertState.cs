namespace StreamDetect.Stages.Alerts;

/// <summary>
/// What the alerting needs to remember about one user, owned by the user's partition (persisted with it,
/// moved with it): the cooldown (time of the last alert), the last alert's id (feedback names it), the
/// segment and model the user was last scored in, and the user's open day for the online thresholds (its
/// highest score so far that day, closed into the thresholds when the user's next event falls on a later
/// day or in another segment). A scoring request carries it to the stream and the settlement brings it back.
/// </summary>
/// <param name="LastAlertMs">Event time of the user's last alert (epoch ms), or <see cref="long.MinValue"/>.</param>
/// <param name="LastAlertId">The last alert's id, or null.</param>
/// <param name="LastSegment">The segment of the user's last decided event, or null.</param>
/// <param name="LastModel">The model@version that scored the user's last decided event, or null.</param>
/// <param name="OpenDay">The day (epoch ms / 86,400,000) of the open user-day, or <see cref="long.MinValue"/>.</param>
/// <param name="OpenSegment">The segment of the open user-day.</param>
/// <param name="OpenMax">The highest score of the open user-day.</param>
public readonly record struct UserAlertState(
    long LastAlertMs,
    string? LastAlertId,
    string? LastSegment,
    string? LastModel,
    long OpenDay,
    string? OpenSegment,
    double OpenMax)
{
    /// <summary>A user never scored.</summary>
    public static readonly UserAlertState None = new(long.MinValue, null, null, null, long.MinValue, null, 0);

    /// <summary>The state after an alert at <paramref name="timeMs"/> with this id.</summary>
    public UserAlertState WithAlert(long timeMs, string alertId) => this with { LastAlertMs = timeMs, LastAlertId = alertId };
}
