namespace StreamDetect.Models.Vocabulary;

/// <summary>
/// How an event's item relates to the previous event's: repeats on one item (order brushing, review
/// spam) and category hopping (scrapers) show here without a vocabulary of item ids.
/// </summary>
public static class ItemRelation
{
    public const int NoItem = 0;
    public const int NoPrevious = 1;
    public const int SameItem = 2;
    public const int SameCategory = 3;
    public const int Different = 4;

    public const int Count = 5;
}
