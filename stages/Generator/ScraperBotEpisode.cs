using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// A crawler on the account: from a headless browser on datacenter addresses it pages through the catalog,
/// one listing query after another, opening hundreds to a few thousand items picked uniformly (the long tail
/// as often as the bestsellers) with sub-second gaps. It never carts or buys.
/// </summary>
internal sealed class ScraperBotEpisode : AnomalyEpisode
{
    public override void Record(EpisodeContext episode)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        string[] ips = new string[rng.Between(1, 3)];
        for (int i = 0; i < ips.Length; i++) ips[i] = NetworkIdentities.DatacenterIp(rng);
        episode.Device = NetworkIdentities.NewDevice("web", rng);
        episode.Ip = ips[0];

        int requests = rng.Between(400, 2000);
        int category = rng.NextInt(catalog.CategoryCount);
        int pageLeft = 0;
        for (int n = 0; n < requests; n++)
        {
            long gap = n == 0 ? 0 : Math.Max(50L, episode.Gap(0.35, 0.6));
            if (n % 300 == 299) episode.Ip = ips[n / 300 % ips.Length]; // rotates its proxy now and then
            if (pageLeft == 0)
            {
                category = (category + 1) % catalog.CategoryCount;
                episode.Add(EventTypes.Search, gap, query: catalog.CategoryQuery(category));
                pageLeft = rng.Between(10, 40);
                continue;
            }
            pageLeft--;
            episode.Add(rng.Chance(0.15) ? EventTypes.Click : EventTypes.View, gap, catalog.UniformItem(rng));
        }
    }
}
