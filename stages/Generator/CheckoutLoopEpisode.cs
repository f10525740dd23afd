using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// A checkout that is never paid, again and again: on the user's own device and address, one to three ordinary
/// items at their normal prices are carted and checked out, then carted and checked out again (sometimes after
/// another look at the item), 4 to 12 times, without a single purchase or failed payment; the session ends at a
/// checkout. Every event is ordinary; the counts (many checkouts, no payment) and the end give it away.
/// </summary>
internal sealed class CheckoutLoopEpisode : AnomalyEpisode
{
    public override void Record(EpisodeContext episode)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        var items = new int[rng.Between(1, 3)];
        for (int i = 0; i < items.Length; i++) items[i] = catalog.SampleItem(rng);

        episode.Add(EventTypes.View, 0, items[0]);
        int loops = rng.Between(4, 12);
        for (int l = 0; l < loops; l++)
        {
            int item = items[l % items.Length];
            double amount = catalog.Price(item);
            if (l > 0 && rng.Chance(0.5)) episode.Add(EventTypes.View, episode.Gap(10 * episode.Tempo), item);
            episode.Add(EventTypes.Cart, episode.Gap(8 * episode.Tempo), item, amount);
            episode.Add(EventTypes.Checkout, episode.Gap(15 * episode.Tempo), item, amount);
        }
    }
}
