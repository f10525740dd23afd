using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// One account of a coupon ring (<see cref="CouponRing"/>): on the ring's shared device and address it logs
/// in, claims the new-user coupon and places its first order, just above the coupon's value. The accounts
/// only browsed before (never ordered) and are dropped afterwards.
/// </summary>
internal sealed class CouponAbuseEpisode : AnomalyEpisode
{
    public override bool ResumesNormalActivity => false;

    public override bool BrowseOnlyHistory => true;

    public override void Record(EpisodeContext episode)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        CouponRing ring = episode.Plan.Ring ?? throw new InvalidOperationException("a coupon-abuse user has no ring");
        episode.Device = ring.Device;
        episode.Ip = ring.Ip;

        int item = catalog.SampleItem(rng);
        for (int attempt = 0; attempt < 50; attempt++)
        {
            double price = catalog.Price(item);
            if (price > ring.CouponValue + 3 && price < ring.CouponValue * 4) break;
            item = catalog.SampleItem(rng);
        }
        double amount = Math.Max(0.5, catalog.Price(item) - ring.CouponValue);

        episode.Add(EventTypes.Login, 0);
        episode.Add(EventTypes.Coupon, episode.Gap(6), amount: ring.CouponValue);
        if (rng.Chance(0.5)) episode.Add(EventTypes.View, episode.Gap(8), catalog.SampleItem(rng));
        episode.Add(EventTypes.View, episode.Gap(8), item);
        episode.Add(EventTypes.Cart, episode.Gap(5), item, catalog.Price(item));
        episode.Add(EventTypes.Checkout, episode.Gap(6), item, amount);
        episode.Add(EventTypes.Purchase, episode.Gap(10), item, amount);
        if (rng.Chance(0.7)) episode.Add(EventTypes.Logout, episode.Gap(5));
    }
}
