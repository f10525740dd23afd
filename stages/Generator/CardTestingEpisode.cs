using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Stolen cards tested on the account: from a device it never used, one cheap item is carted and checked out
/// again and again with small amounts a few seconds apart; most payments fail, a few small ones go through.
/// </summary>
internal sealed class CardTestingEpisode : AnomalyEpisode
{
    public override void Record(EpisodeContext episode)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        if (episode.Intruder is (string device, string ip))
        {
            // A slow poisoner strikes from the device and address it made familiar.
            (episode.Device, episode.Ip) = (device, ip);
        }
        else
        {
            episode.Device = NetworkIdentities.NewDevice(NetworkIdentities.RandomPlatform(rng), rng);
            episode.Ip = rng.Chance(0.5) ? NetworkIdentities.DatacenterIp(rng) : NetworkIdentities.ResidentialIp(rng);
        }

        int item = catalog.CheapItems[rng.NextInt(Math.Min(20, catalog.CheapItems.Count))];
        episode.Add(EventTypes.Login, 0);
        episode.Add(EventTypes.View, episode.Gap(4), item);
        episode.Add(EventTypes.Cart, episode.Gap(3), item, Math.Min(catalog.Price(item), 5.0));

        int attempts = rng.Between(8, 30);
        int successes = rng.Between(1, 3);
        var succeeds = new bool[attempts];
        for (int s = 0; s < successes; s++) succeeds[rng.NextInt(attempts)] = true;
        for (int a = 0; a < attempts; a++)
        {
            double amount = Math.Round(rng.Uniform(0.5, 5.0), 2);
            episode.Add(EventTypes.Checkout, episode.Gap(a == 0 ? 4 : 6, 0.5), item, amount);
            episode.Add(succeeds[a] ? EventTypes.Purchase : EventTypes.PayFail, episode.Gap(2, 0.4), item, amount);
        }
        if (rng.Chance(0.3)) episode.Add(EventTypes.Logout, episode.Gap(3));
    }
}
