using System.Globalization;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Decides, before any event exists, who is anomalous and how: round(users x anomaly rate) users drawn at
/// random, split as evenly as possible over <see cref="GeneratorSettings.AnomalyScenarios"/> (earlier scenarios
/// get the remainder), each with an episode time in the middle of the period so there is normal history before it
/// and room after it. Coupon-abuse users are grouped into rings.
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
        Truth = truth;
        AnomalousUsersByScenario = counts;
    }

    /// <summary>"u-1" .. "u-N", by user index.</summary>
    public string[] UserIds { get; }

    /// <summary>userId -> scenario name or <see cref="Scenarios.Normal"/>, for every user.</summary>
    public IReadOnlyDictionary<string, string> Truth { get; }

    public IReadOnlyDictionary<string, int> AnomalousUsersByScenario { get; }

    /// <summary>The plan of an anomalous user; null for a normal one.</summary>
    public UserPlan? For(int userIndex) => _anomalous.GetValueOrDefault(userIndex);

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
