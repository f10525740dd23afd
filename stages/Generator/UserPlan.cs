namespace StreamDetect.Stages.Generator;

/// <summary>What an anomalous user will do: the scenario and when its episode is due.</summary>
/// <param name="EpisodeAtMs">Earliest start of the episode (epoch ms); it waits for a session in progress.</param>
/// <param name="Ring">The coupon ring, for <see cref="Scenarios.CouponAbuse"/>.</param>
internal sealed record UserPlan(int Index, string Scenario, long EpisodeAtMs, CouponRing? Ring);
