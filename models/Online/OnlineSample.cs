using StreamDetect.Models.Dataset;

namespace StreamDetect.Models.Online;

/// <summary>
/// A candidate for online learning: one user's recent events, with what the live path knew about them when it
/// offered the sample (scores under the champion and the base version on the calibrated scale, whether it alerted,
/// whether the user was in an alert cooldown, whether feedback marked it anomalous).
/// </summary>
/// <param name="Events">The user's events (the window the scorer saw).</param>
/// <param name="Device">The device of the user's latest event, when known (for the per-device cap).</param>
/// <param name="Ip">The IP of the user's latest event, when known (for the per-IP cap).</param>
/// <param name="EventTimeMs">Event time of the sample's latest event (the hold-back delay is measured from it).</param>
/// <param name="ChampionScore">The user's highest calibrated score over the sample under the champion.</param>
/// <param name="BaseScore">The same under the base (originally trained) version.</param>
/// <param name="WithoutNewTypes">For the guard's new-type rule: how the sample scores without the events of the new
/// types in its window, when every such type is populous (null otherwise, or when the rule is off).</param>
public sealed record OnlineSample(
    UserSequence Events, string? Device, string? Ip, long EventTimeMs, double ChampionScore, double BaseScore,
    bool Alerted = false, bool InCooldown = false, bool FeedbackPositive = false, OnlineSampleSource Source = OnlineSampleSource.Traffic,
    WithoutNewTypes? WithoutNewTypes = null)
{
    public string UserId => Events.UserId;
}
