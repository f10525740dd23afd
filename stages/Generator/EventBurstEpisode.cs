using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// One action over and over: on the user's own device and address, after a few ordinary views, the same event
/// (a view of one item, one search query, carting one item, or favouring one item) 25 to 80 times in a row, a
/// second or two apart (a stuck client retrying, a script hammering one button), then the session ends. Each
/// event is ordinary; their count is not.
/// </summary>
internal sealed class EventBurstEpisode : AnomalyEpisode
{
    /// <summary>The event types a burst repeats.</summary>
    public static IReadOnlyList<string> BurstTypes { get; } = [EventTypes.View, EventTypes.Search, EventTypes.Cart, EventTypes.Favorite];

    public override void Record(EpisodeContext episode)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        int looks = rng.Between(1, 3);
        for (int l = 0; l < looks; l++) episode.Add(EventTypes.View, l == 0 ? 0 : episode.Gap(12 * episode.Tempo), catalog.SampleItem(rng));

        string type = BurstTypes[rng.NextInt(BurstTypes.Count)];
        int item = catalog.SampleItem(rng);
        string query = catalog.SampleQuery(catalog.CategoryOf(item), rng);
        int count = rng.Between(25, 80);
        for (int k = 0; k < count; k++)
        {
            long gap = k == 0 ? episode.Gap(6) : Math.Max(200L, episode.Gap(1.5, 0.3));
            if (type == EventTypes.Search) episode.Add(type, gap, query: query);
            else if (type == EventTypes.Cart) episode.Add(type, gap, item, catalog.Price(item));
            else episode.Add(type, gap, item);
        }
    }
}
