namespace StreamDetect.Stages.Generator;

/// <summary>
/// The slow-poisoning scenarios (HOCON <c>streamdetect.generator.poisoning</c>): a <see cref="Rate"/> of the users,
/// taken from those the plan left normal, move session by session from normal shopping toward an attack
/// (<see cref="Targets"/>) while every event is labelled normal, then strike with that attack (labelled anomalous,
/// truth <c>poisoning_&lt;target&gt;</c>) on or after day <see cref="StrikeDay"/>. Off (rate 0) by default: the
/// traffic is then byte for byte what it was before the scenario existed.
/// </summary>
public sealed record PoisoningSettings
{
    /// <summary>Fraction of all users who poison, in [0, 1], split evenly over <see cref="Targets"/>; 0 = none.</summary>
    public double Rate { get; init; }

    /// <summary>Day of the period (0 = the first) from whose midnight the strikes fall (uniformly until 2 hours before the end).</summary>
    public int StrikeDay { get; init; } = 5;

    /// <summary>The attacks poisoners move toward and commit (<see cref="Scenarios.PoisoningTargets"/>), in the order users are allotted.</summary>
    public IReadOnlyList<string> Targets { get; init; } = Scenarios.PoisoningTargets;

    /// <summary>Sessions per day of a poisoner: every session is one step closer to the attack.</summary>
    public double SessionsPerDay { get; init; } = 3;

    /// <summary>No poisoners.</summary>
    public static PoisoningSettings Off { get; } = new();

    public bool Enabled => Rate > 0;

    /// <summary>The list read, or <see cref="Scenarios.PoisoningTargets"/> itself when it names the same targets in the
    /// same order (so settings read from the shipped file equal the defaults).</summary>
    public static IReadOnlyList<string> TargetList(IReadOnlyList<string> read) =>
        read.SequenceEqual(Scenarios.PoisoningTargets, StringComparer.Ordinal) ? Scenarios.PoisoningTargets : read;

    /// <summary>What is wrong with these values for a period of <paramref name="days"/> days, naming the setting
    /// by <paramref name="name"/> (a HOCON key or an option); null when nothing is.</summary>
    public (string Setting, string Problem)? Problem(int days, Func<string, string> name)
    {
        if (!(Rate is >= 0 and <= 1)) return (name("rate"), $"must be a fraction in [0, 1] (got {Rate})");
        if (!(SessionsPerDay is > 0 and <= 1000)) return (name("sessions-per-day"), $"must be in (0, 1000] (got {SessionsPerDay})");
        if (TargetProblem(Targets) is { } targets) return (name("targets"), targets);
        if (Enabled && (StrikeDay < 1 || StrikeDay > days - 1))
            return (name("strike-day"), $"must be a day after the first and before the end of the {days}-day period, in [1, {days - 1}] (got {StrikeDay})");
        return null;
    }

    /// <summary>What is wrong with a list of targets (empty, unknown or repeated names); null when nothing is.</summary>
    public static string? TargetProblem(IReadOnlyList<string>? targets)
    {
        string choose = $"choose from {string.Join(", ", Scenarios.PoisoningTargets)}";
        if (targets is null || targets.Count == 0) return $"names no attack ({choose})";
        foreach (string name in targets)
            if (!Scenarios.PoisoningTargets.Contains(name)) return $"'{name}' is not an attack a poisoner can move toward ({choose})";
        if (targets.Distinct(StringComparer.Ordinal).Count() != targets.Count) return $"names an attack twice ({string.Join(", ", targets)})";
        return null;
    }
}
