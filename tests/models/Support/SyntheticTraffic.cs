using StreamDetect.Models.Events;

namespace StreamDetect.Models.Tests.Support;

/// <summary>
/// Deterministic synthetic e-commerce traffic for tests: normal shoppers following a small session
/// grammar, and planted anomalies (fast scrapers, card testers) with labels.
/// </summary>
internal static class SyntheticTraffic
{
    public static readonly long T0 = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>The deterministic grammar: every user repeats this cycle.</summary>
    public static readonly string[] Cycle = ["login", "view", "view", "cart", "checkout", "purchase", "logout"];

    /// <summary>Users who repeat <see cref="Cycle"/> with regular gaps; optional fields can be left out.</summary>
    public static List<UserEvent> GrammarUsers(int users, int cycles, int seed, bool optionalFields = true)
    {
        var random = new Random(seed);
        var events = new List<UserEvent>();
        for (int u = 0; u < users; u++)
        {
            long t = T0 + random.Next(0, 3_600_000);
            for (int c = 0; c < cycles; c++)
            {
                foreach (string type in Cycle)
                {
                    events.Add(Event($"g-{u}", t, type, optionalFields ? u % 50 : -1, random, label: 0));
                    t += 5_000 + random.Next(0, 20_000);
                }
                t += 3_600_000 + random.Next(0, 7_200_000);
            }
        }
        return events.OrderBy(e => e.TimestampMs).ToList();
    }

    /// <summary>
    /// Shoppers with a stochastic session grammar over several days, plus planted anomalous users:
    /// scrapers (hundreds of views a second apart) and card testers (bursts of pay_fail with small amounts).
    /// </summary>
    public static List<UserEvent> Shoppers(int normalUsers, int anomalousUsers, int days, int seed, bool optionalFields = true)
    {
        var random = new Random(seed);
        var events = new List<UserEvent>();
        for (int u = 0; u < normalUsers; u++)
        {
            for (int d = 0; d < days; d++)
            {
                if (random.NextDouble() < 0.4) continue;
                long t = T0 + d * 86_400_000L + random.Next(8, 22) * 3_600_000L + random.Next(0, 3_600_000);
                NormalSession($"n-{u}", ref t, random, events, optionalFields, u);
            }
        }
        for (int a = 0; a < anomalousUsers; a++)
        {
            string user = $"a-{a}";
            int day = random.Next(0, days);
            long t = T0 + day * 86_400_000L + random.Next(0, 20) * 3_600_000L;
            if (a % 2 == 0)
            {
                events.Add(Event(user, t, "login", optionalFields ? a : -1, random, 1));
                for (int i = 0; i < 60; i++)
                {
                    t += 300 + random.Next(0, 500);
                    events.Add(Event(user, t, i % 7 == 6 ? "search" : "view", optionalFields ? random.Next(0, 1000) : -1, random, 1));
                }
            }
            else
            {
                events.Add(Event(user, t, "login", optionalFields ? a : -1, random, 1));
                for (int i = 0; i < 25; i++)
                {
                    t += 2_000 + random.Next(0, 3_000);
                    events.Add(Event(user, t, i % 5 == 4 ? "purchase" : "pay_fail", optionalFields ? a : -1, random, 1, amount: 1 + random.Next(0, 3)));
                }
            }
        }
        return events.OrderBy(e => e.TimestampMs).ThenBy(e => e.UserId, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Normal shopping sessions as their own entities (entity "s-{i}": one session each, minutes long), started
    /// uniformly over <paramref name="days"/> days: entities that live minutes, however long the data.
    /// </summary>
    public static List<UserEvent> SessionEntities(int sessions, int days, int seed)
    {
        var random = new Random(seed);
        var events = new List<UserEvent>();
        for (int i = 0; i < sessions; i++)
        {
            long t = T0 + (long)(random.NextDouble() * days * 86_400_000L);
            NormalSession($"s-{seed}-{i}", ref t, random, events, optionalFields: true, i);
        }
        return events.OrderBy(e => e.TimestampMs).ThenBy(e => e.UserId, StringComparer.Ordinal).ToList();
    }

    private static void NormalSession(string user, ref long t, Random random, List<UserEvent> events, bool optionalFields, int u)
    {
        int item = optionalFields ? random.Next(0, 200) : -1;
        events.Add(Event(user, t, "login", item, random, 0));
        int views = 2 + random.Next(0, 6);
        for (int v = 0; v < views; v++)
        {
            t += 5_000 + random.Next(0, 60_000);
            if (random.NextDouble() < 0.3)
            {
                events.Add(Event(user, t, "search", -1, random, 0));
                t += 3_000 + random.Next(0, 10_000);
            }
            item = optionalFields ? random.Next(0, 200) : -1;
            events.Add(Event(user, t, "view", item, random, 0));
        }
        if (random.NextDouble() < 0.5)
        {
            t += 10_000 + random.Next(0, 60_000);
            events.Add(Event(user, t, "cart", item, random, 0, amount: 20 + random.Next(0, 200)));
            if (random.NextDouble() < 0.7)
            {
                t += 20_000 + random.Next(0, 60_000);
                events.Add(Event(user, t, "checkout", item, random, 0, amount: 20 + random.Next(0, 200)));
                t += 5_000 + random.Next(0, 20_000);
                events.Add(Event(user, t, random.NextDouble() < 0.05 ? "pay_fail" : "purchase", item, random, 0, amount: 20 + random.Next(0, 200)));
            }
        }
        t += 5_000 + random.Next(0, 60_000);
        events.Add(Event(user, t, "logout", -1, random, 0));
    }

    private static UserEvent Event(string user, long t, string type, int item, Random random, int label, double? amount = null) =>
        new(user, t, type)
        {
            Item = item >= 0 ? $"sku-{item}" : null,
            Category = item >= 0 ? $"c-{item % 10}" : null,
            Amount = item >= 0 ? amount : null,
            Device = item >= 0 ? "ios" : null,
            Ip = item >= 0 ? $"10.0.0.{item % 5}" : null,
            Session = null,
            Label = label,
        };
}
