using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Someone else gets in and leaves a trap: a clean login (the password was known: no failed attempts) from a
/// device and address the account never used, perhaps a look at an item or two, the shipping address changed,
/// and then nothing: no order, no logout, the session just stops. What gives it away is where the session
/// ends. The owner comes back later, on their own devices.
/// </summary>
internal sealed class AbandonedTakeoverEpisode : AnomalyEpisode
{
    public override void Record(EpisodeContext episode)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        episode.Device = NetworkIdentities.NewDevice(NetworkIdentities.RandomPlatform(rng), rng);
        episode.Ip = rng.Chance(0.5) ? NetworkIdentities.DatacenterIp(rng) : NetworkIdentities.ResidentialIp(rng);

        episode.Add(EventTypes.Login, 0);
        int looks = rng.Between(0, 2);
        for (int l = 0; l < looks; l++) episode.Add(EventTypes.View, episode.Gap(8), catalog.SampleItem(rng));
        episode.Add(EventTypes.AddressChange, episode.Gap(20, 0.4));
    }
}
