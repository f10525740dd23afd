namespace StreamDetect.Models.Novelty;

/// <summary>Hyper-parameters of the count/novelty detector (HOCON <c>streamdetect.models.novelty</c>).</summary>
public sealed record NoveltyHyperParameters
{
    /// <summary>A gap in event time (seconds) after which the open session is taken as closed when the window holds
    /// no end marker there (data or streams without session markers); keep it equal to <c>streamdetect.sessions.gap</c>.</summary>
    public double SplitGapSeconds { get; init; } = 1800;

    /// <summary>Weight of an unseen per-type count vector at a session's close, per bucket of distance to the nearest
    /// seen vector (at most two buckets), in units of ln(sessions + 2).</summary>
    public double CountVectorWeight { get; init; } = 0.5;

    /// <summary>Weight of a session duration outside the training range, in units of ln(sessions + 2).</summary>
    public double DurationWeight { get; init; } = 0.5;

    /// <summary>Weight of the rarity of a seen transition (-ln p) added to an event's score: orders sessions without
    /// novelty among themselves (so a threshold can fall between them), small enough never to rival a novelty.</summary>
    public double RarityWeight { get; init; } = 0.01;

    /// <summary>Distinct bucketed count vectors kept (the most frequent); a closed session is compared with these.</summary>
    public int MaxCountVectors { get; init; } = 4096;

    /// <summary>Successors listed as expected in an explanation.</summary>
    public int ExplainTop { get; init; } = 3;
}
