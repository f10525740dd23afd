using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Fake orders that push a few obscure items up the rankings: view, buy now, pay, review, over and over, on
/// the same two to four long-tail items, with nearly the same small amount each time.
/// </summary>
internal sealed class OrderBrushingEpisode : AnomalyEpisode
{
    public override void Record(EpisodeContext episode)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        var items = new int[rng.Between(2, 4)];
        for (int i = 0; i < items.Length; i++) items[i] = rng.Between(catalog.ItemCount / 2, catalog.ItemCount - 1);
        double baseAmount = rng.Uniform(6.0, 25.0);

        int cycles = rng.Between(8, 25);
        for (int c = 0; c < cycles; c++)
        {
            int item = items[rng.NextInt(items.Length)];
            double amount = baseAmount * (1.0 + rng.Uniform(-0.03, 0.03));
            episode.Add(EventTypes.View, c == 0 ? 0 : episode.Gap(12), item);
            episode.Add(EventTypes.Checkout, episode.Gap(5, 0.4), item, amount);
            episode.Add(EventTypes.Purchase, episode.Gap(4, 0.4), item, amount);
            episode.Add(EventTypes.Review, episode.Gap(10), item);
        }
    }
}
