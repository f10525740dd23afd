using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// A paid reviewer: dozens of reviews seconds apart, mostly of items of one category the account never
/// bought (a few of its real purchases mixed in as cover), sometimes after a glance at the item page.
/// </summary>
internal sealed class ReviewSpamEpisode : AnomalyEpisode
{
    public override bool NeedsPurchaseHistory => true;

    public override void Record(EpisodeContext episode)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        int[] bought = episode.PurchasedBefore.Order().ToArray();
        int category = catalog.SampleCategory(rng);

        episode.Add(EventTypes.Login, 0);
        int reviews = rng.Between(15, 60);
        // A few genuine reviews (5-20%) as cover, when the account has bought anything.
        var genuine = new bool[reviews];
        int cover = bought.Length > 0 ? (int)(reviews * rng.Uniform(0.05, 0.2)) : 0;
        for (int c = 0; c < cover; c++) genuine[rng.NextInt(reviews)] = true;
        for (int r = 0; r < reviews; r++)
        {
            int item = genuine[r] ? bought[rng.NextInt(bought.Length)] : Unbought(episode, category);
            if (rng.Chance(0.3))
            {
                episode.Add(EventTypes.View, episode.Gap(8), item);
                episode.Add(EventTypes.Review, episode.Gap(4, 0.4), item);
            }
            else
            {
                episode.Add(EventTypes.Review, episode.Gap(15), item);
            }
        }
    }

    private static int Unbought(EpisodeContext episode, int category)
    {
        int item = -1;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            item = attempt < 10 ? episode.Catalog.SampleItemIn(category, episode.Rng) : episode.Catalog.UniformItem(episode.Rng);
            if (!episode.PurchasedBefore.Contains(item)) return item;
        }
        return item;
    }
}
