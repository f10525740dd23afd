namespace StreamDetect.Stages.Generator;

/// <summary>
/// The benign-drift scenario (HOCON <c>streamdetect.generator.drift</c>): a product release lands at midnight (UTC)
/// of day <see cref="Day"/> and from then on a <see cref="Share"/> of the users shop differently
/// (<see cref="ShopperSessionModel.AfterRelease"/>: new event types, new paths through the funnel, another pace).
/// Only their normal sessions that start at or after the release change; they stay labelled normal, and their
/// anomaly episodes (if any) are untouched. Off (share 0) by default: the traffic is then byte for byte what it
/// was before the scenario existed.
/// </summary>
public sealed record DriftSettings
{
    /// <summary>Share of all users who adopt the release, in [0, 1]; 0 = no release.</summary>
    public double Share { get; init; }

    /// <summary>Day of the period (0 = the first) at whose midnight the release lands; at least 1 and before the last day.</summary>
    public int Day { get; init; } = 5;

    /// <summary>Factor on the gaps between events of a released session (0.7: the new app is faster).</summary>
    public double Pace { get; init; } = 0.7;

    /// <summary>No release.</summary>
    public static DriftSettings Off { get; } = new();

    public bool Enabled => Share > 0;

    /// <summary>What is wrong with these values for a period of <paramref name="days"/> days, naming the setting
    /// by <paramref name="name"/> (a HOCON key or an option); null when nothing is.</summary>
    public (string Setting, string Problem)? Problem(int days, Func<string, string> name)
    {
        if (!(Share is >= 0 and <= 1)) return (name("share"), $"must be a share in [0, 1] (got {Share})");
        if (!(Pace > 0 && Pace <= 10)) return (name("pace"), $"must be in (0, 10] (got {Pace})");
        if (Enabled && (Day < 1 || Day > days - 1))
            return (name("day"), $"must be a day after the first and before the end of the {days}-day period, in [1, {days - 1}] (got {Day})");
        return null;
    }
}
