using System.Globalization;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Decides, before any event exists, who is anomalous and how: round(users x anomaly rate) users drawn at
/// random, split as evenly as possible over <see cref="GeneratorSettings.AnomalyScenarios"/> (earlier scenarios
/// get the remainder), each with an episode time in the middle of the period so there is normal history before it
/// and room after it. Coupon-abuse users are grouped into rings. The drift scenario's released users and the
/// slow poisoners (<see cref="DriftSettings"/>, <see cref="PoisoningSettings"/>) are drawn afterwards, each from a
/// random stream of its own, so switching them on changes nobody else's plan.
/// </summary>
internal sealed class ScenarioPlan
{
    private readonly Dictionary<int, UserPlan> _anomalous = [];

    public ScenarioPlan(GeneratorSettings settings, long startMs, long endMs)
    {
        var rng = Xoshiro256StarStar.ForStream(settings.Seed, StreamIds.Planner);
        int users = settings.Users;
        UserIds = new string[users];
        var truth = new Dictionary<string, string>(users, StringComparer.Ordinal);
        for (int i = 0; i < users; i++)
        {
            UserIds[i] = "u-" + (i + 1).ToString(CultureInfo.InvariantCulture);
            truth[UserIds[i]] = Scenarios.Normal;
        }

        int anomalous = (int)Math.Min(users, Math.Round(users * settings.AnomalyRate, MidpointRounding.AwayFromZero));
        // Partial Fisher-Yates: the first `anomalous` slots become a uniform sample of users.
        var order = new int[users];
        for (int i = 0; i < users; i++) order[i] = i;
        for (int i = 0; i < anomalous; i++)
        {
            int j = i + rng.NextInt(users - i);
            (order[i], order[j]) = (order[j], order[i]);
        }

        long period = endMs - startMs;
        long EpisodeTime(Xoshiro256StarStar r) => startMs + (long)(period * r.Uniform(0.30, 0.85));

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        int next = 0;
        var scenarios = settings.AnomalyScenarios;
        int scenarioCount = scenarios.Count;
        for (int s = 0; s < scenarioCount; s++)
        {
            string scenario = scenarios[s];
            int count = anomalous / scenarioCount + (s < anomalous % scenarioCount ? 1 : 0);
            counts[scenario] = count;
            int[] members = order[next..(next + count)];
            next += count;
            if (scenario == Scenarios.CouponAbuse)
            {
                PlanRings(members, settings, rng, EpisodeTime);
            }
            else
            {
                foreach (int user in members) _anomalous[user] = new UserPlan(user, scenario, EpisodeTime(rng), null);
            }
            foreach (int user in members) truth[UserIds[user]] = scenario;
        }
        // The drift and poisoning scenarios draw from streams of their own, after everything above: when they are
        // off, nothing here runs and the plan (and every user's traffic) is what it was without them.
        if (settings.Drift.Enabled) _released = PlanRelease(settings);
        if (settings.Poisoning.Enabled) PlanPoisoners(settings, startMs, endMs, truth, counts);
        Truth = truth;
        AnomalousUsersByScenario = counts;
        ReleaseAtMs = startMs + settings.Drift.Day * 86_400_000L;
    }

    /// <summary>"u-1" .. "u-N", by user index.</summary>
    public string[] UserIds { get; }

    /// <summary>userId -> scenario name or <see cref="Scenarios.Normal"/>, for every user.</summary>
    public IReadOnlyDictionary<string, string> Truth { get; }

    public IReadOnlyDictionary<string, int> AnomalousUsersByScenario { get; }

    /// <summary>The plan of an anomalous user (a slow poisoner included); null for a normal one.</summary>
    public UserPlan? For(int userIndex) => _anomalous.GetValueOrDefault(userIndex);

    /// <summary>When the drift scenario's release lands (epoch ms; meaningful only when drift is on).</summary>
    public long ReleaseAtMs { get; }

    /// <summary>Whether the user adopts the drift scenario's release (always false when drift is off).</summary>
    public bool IsReleased(int userIndex) => _released is not null && _released[userIndex];

    private bool[]? _released;

    /// <summary>round(users x share) users drawn uniformly (partial Fisher-Yates on the release's own stream).</summary>
    private static bool[] PlanRelease(GeneratorSettings settings)
    {
        int users = settings.Users;
        var rng = Xoshiro256StarStar.ForStream(settings.Seed, StreamIds.Release);
        int count = (int)Math.Min(users, Math.Round(users * settings.Drift.Share, MidpointRounding.AwayFromZero));
        var order = new int[users];
        for (int i = 0; i < users; i++) order[i] = i;
        var released = new bool[users];
        for (int i = 0; i < count; i++)
        {
            int j = i + rng.NextInt(users - i);
            (order[i], order[j]) = (order[j], order[i]);
            released[order[i]] = true;
        }
        return released;
    }

    /// <summary>
    /// round(users x rate) poisoners drawn from the users the plan left normal (fewer when not enough are), split
    /// evenly over the targets in their order; each strikes at a uniform time from midnight of the strike day until
    /// two hours before the end, after an approach that starts with the period.
    /// </summary>
    private void PlanPoisoners(GeneratorSettings settings, long startMs, long endMs, Dictionary<string, string> truth, Dictionary<string, int> counts)
    {
        var poisoning = settings.Poisoning;
        var rng = Xoshiro256StarStar.ForStream(settings.Seed, StreamIds.Poisoning);
        int[] normal = Enumerable.Range(0, settings.Users).Where(u => !_anomalous.ContainsKey(u)).ToArray();
        int wanted = (int)Math.Round(settings.Users * poisoning.Rate, MidpointRounding.AwayFromZero);
        int poisoners = Math.Min(normal.Length, wanted);
        for (int i = 0; i < poisoners; i++)
        {
            int j = i + rng.NextInt(normal.Length - i);
            (normal[i], normal[j]) = (normal[j], normal[i]);
        }
        long strikeFrom = startMs + poisoning.StrikeDay * 86_400_000L;
        long strikeUntil = Math.Max(strikeFrom, endMs - 2 * 3_600_000L);
        int next = 0;
        for (int t = 0; t < poisoning.Targets.Count; t++)
        {
            string scenario = Scenarios.PoisoningScenarioFor(poisoning.Targets[t]);
            int count = poisoners / poisoning.Targets.Count + (t < poisoners % poisoning.Targets.Count ? 1 : 0);
            counts[scenario] = count;
            for (int k = 0; k < count; k++)
            {
                int user = normal[next++];
                long strikeAt = strikeFrom + (long)((strikeUntil - strikeFrom) * rng.NextDouble());
                _anomalous[user] = new UserPlan(user, scenario, strikeAt, null, startMs);
                truth[UserIds[user]] = scenario;
            }
        }
    }

    private void PlanRings(int[] members, GeneratorSettings settings, Xoshiro256StarStar rng, Func<Xoshiro256StarStar, long> episodeTime)
    {
        int ringIndex = 0;
        int at = 0;
        while (at < members.Length)
        {
            int remaining = members.Length - at;
            int size = remaining <= settings.CouponRingMaxSize
                ? remaining
                : Math.Min(rng.Between(settings.CouponRingMinSize, settings.CouponRingMaxSize), remaining - settings.CouponRingMinSize);
            var ringRng = Xoshiro256StarStar.ForStream(settings.Seed, StreamIds.CouponRing(ringIndex));
            string ip = ringRng.Chance(0.5) ? NetworkIdentities.DatacenterIp(ringRng) : NetworkIdentities.ResidentialIp(ringRng);
            string device = NetworkIdentities.NewDevice(ringRng.Chance(0.7) ? "android" : "web", ringRng);
            double coupon = ringRng.Chance(0.5) ? 10.0 : 15.0;
            var ring = new CouponRing(ringIndex, device, ip, coupon, episodeTime(ringRng));
            long memberStart = ring.StartMs;
            for (int k = 0; k < size; k++)
            {
                int user = members[at + k];
                ring.Members.Add(user);
                _anomalous[user] = new UserPlan(user, Scenarios.CouponAbuse, memberStart, ring);
                // The next account is driven a few minutes later, once this one's order is placed.
                memberStart += (long)ringRng.Uniform(2 * 60_000, 9 * 60_000);
            }
            at += size;
            ringIndex++;
        }
    }
}
