using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Someone else gets in: a burst of failed logins from a new device and address, a successful login, the
/// shipping address changed, then a few expensive orders in quick succession. The owner comes back later,
/// on their own devices.
/// </summary>
internal sealed class AccountTakeoverEpisode : AnomalyEpisode
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
            episode.Ip = rng.Chance(0.6) ? NetworkIdentities.DatacenterIp(rng) : NetworkIdentities.ResidentialIp(rng);
        }

        int failures = rng.Between(4, 15);
        for (int f = 0; f < failures; f++) episode.Add(EventTypes.LoginFail, f == 0 ? 0 : episode.Gap(2.5, 0.6));
        episode.Add(EventTypes.Login, episode.Gap(3));
        episode.Add(EventTypes.AddressChange, episode.Gap(25, 0.4));

        int orders = rng.Between(2, 4);
        for (int o = 0; o < orders; o++)
        {
            int item = catalog.ExpensiveItems[rng.NextInt(Math.Min(30, catalog.ExpensiveItems.Count))];
            double amount = catalog.Price(item) * rng.Between(1, 3);
            episode.Add(EventTypes.View, episode.Gap(6), item);
            episode.Add(EventTypes.Cart, episode.Gap(4), item, amount);
            episode.Add(EventTypes.Checkout, episode.Gap(6), item, amount);
            episode.Add(EventTypes.Purchase, episode.Gap(8), item, amount);
        }
        if (rng.Chance(0.4)) episode.Add(EventTypes.Logout, episode.Gap(5));
    }
}
