namespace StreamDetect.Stages.Generator;

/// <summary>What an anomalous user will do: the scenario and when its episode is due.</summary>
/// <param name="EpisodeAtMs">Earliest start of the episode (epoch ms); it waits for a session in progress.</param>
/// <param name="Ring">The coupon ring, for <see cref="Scenarios.CouponAbuse"/>.</param>
/// <param name="PoisoningFromMs">For a slow poisoner: where its approach starts (progress 0; the strike at
/// <paramref name="EpisodeAtMs"/> is progress 1).</param>
internal sealed record UserPlan(int Index, string Scenario, long EpisodeAtMs, CouponRing? Ring, long? PoisoningFromMs = null);
