using StreamDetect.Models.Events;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// Normal traffic after a product release changed how people shop (a benign drift): new paths through the funnel (search
/// first, items put in the cart straight from the results and viewed after, repeated carts) at a faster pace, with the
/// event types the model knows (a new type would reach a trained model as &lt;unk&gt;, which fine-tuning cannot learn: the
/// vocabulary is fixed at training).
/// </summary>
internal static class ReleasedShoppers
{
    public static List<UserEvent> Generate(int users, int days, int startDay, int seed, string prefix, string? newType = null)
    {
        var random = new Random(seed);
        var events = new List<UserEvent>();
        for (int u = 0; u < users; u++)
        {
            string user = $"{prefix}-{u}";
            for (int d = startDay; d < startDay + days; d++)
            {
                if (random.NextDouble() < 0.3) continue;
                long t = SyntheticTraffic.T0 + d * 86_400_000L + random.Next(8, 22) * 3_600_000L + random.Next(0, 3_600_000);
                Add(events, user, ref t, "login", random);
                Add(events, user, ref t, "search", random);
                Add(events, user, ref t, "search", random);
                // Drawn only with a new type, so the traffic without one is the same as before.
                if (newType is not null && random.NextDouble() < 0.7) Add(events, user, ref t, newType, random);
                int carts = 1 + random.Next(0, 3);
                for (int c = 0; c < carts; c++)
                {
                    Add(events, user, ref t, "cart", random);
                    Add(events, user, ref t, "view", random);
                }
                if (random.NextDouble() < 0.6)
                {
                    Add(events, user, ref t, "checkout", random);
                    Add(events, user, ref t, "purchase", random);
                }
                Add(events, user, ref t, "logout", random);
            }
        }
        return events.OrderBy(e => e.TimestampMs).ThenBy(e => e.UserId, StringComparer.Ordinal).ToList();
    }

    private static void Add(List<UserEvent> events, string user, ref long t, string type, Random random)
    {
        int item = random.Next(0, 200);
        events.Add(new UserEvent(user, t, type)
        {
            Item = $"sku-{item}",
            Category = $"c-{item % 10}",
            Amount = type is "cart" or "checkout" or "purchase" ? 20 + random.Next(0, 200) : null,
            Device = "android",
            Ip = $"10.1.0.{item % 7}",
            Label = 0,
        });
        t += 2_000 + random.Next(0, 8_000);
    }
}
