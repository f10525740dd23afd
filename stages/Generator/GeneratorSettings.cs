using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Settings of the traffic generator (HOCON block <c>streamdetect.generator</c>). The defaults here equal
/// the shipped hocon/streamdetect.conf.
/// </summary>
public sealed record GeneratorSettings
{
    /// <summary>The HOCON block these settings are read from.</summary>
    public const string ConfigPath = "streamdetect.generator";

    /// <summary>Number of simulated users (u-1 .. u-N).</summary>
    public int Users { get; init; } = 10_000;

    /// <summary>Length of the simulated period, in days from <see cref="Start"/>.</summary>
    public int Days { get; init; } = 7;

    /// <summary>Fraction of users who are anomalous, spread evenly over <see cref="AnomalyScenarios"/>.</summary>
    public double AnomalyRate { get; init; } = 0.02;

    /// <summary>Seed: the same settings give byte-identical traffic.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>First instant of the period (UTC; an unspecified kind is taken as UTC).</summary>
    public DateTime Start { get; init; } = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Catalog size (items, ranked by popularity).</summary>
    public int Items { get; init; } = 20_000;

    /// <summary>Number of product categories.</summary>
    public int Categories { get; init; } = 40;

    /// <summary>Exponent s of the Zipf item popularity (weight of rank r is r^-s).</summary>
    public double ItemZipfExponent { get; init; } = 1.05;

    /// <summary>Median over users of their average sessions per day (log-normal across users).</summary>
    public double SessionsPerDayMedian { get; init; } = 1.2;

    /// <summary>Log-space standard deviation of sessions per day across users: the heavy tail.</summary>
    public double SessionsPerDaySigma { get; init; } = 1.0;

    /// <summary>Cap on a user's sessions per day, so the tail stays human.</summary>
    public double MaxSessionsPerDay { get; init; } = 40;

    /// <summary>Smallest coupon-abuse ring (accounts sharing a device and address).</summary>
    public int CouponRingMinSize { get; init; } = 3;

    /// <summary>Largest coupon-abuse ring.</summary>
    public int CouponRingMaxSize { get; init; } = 6;

    /// <summary>
    /// The anomaly scenarios generated (names from <see cref="Scenarios.Anomalous"/>, each once), in the order
    /// anomalous users are allotted to them: each gets an equal share of the anomalous users, earlier ones the
    /// remainder. Default: all of them.
    /// </summary>
    public IReadOnlyList<string> AnomalyScenarios { get; init; } = Scenarios.Anomalous;

    /// <summary>The benign-drift scenario (<c>drift { ... }</c>); off by default.</summary>
    public DriftSettings Drift { get; init; } = DriftSettings.Off;

    /// <summary>The slow-poisoning scenarios (<c>poisoning { ... }</c>); off by default.</summary>
    public PoisoningSettings Poisoning { get; init; } = PoisoningSettings.Off;

    /// <summary>The built-in defaults (equal to hocon/streamdetect.conf).</summary>
    public static GeneratorSettings Default { get; } = new();

    /// <summary>End of the period (excluded).</summary>
    public DateTime End => DateTime.SpecifyKind(Start, DateTimeKind.Utc).AddDays(Days);

    /// <summary>Reads <c>streamdetect.generator</c>; a bad value throws a <see cref="SettingsException"/> naming its key.</summary>
    public static GeneratorSettings Create(Config config)
    {
        var r = new SettingsReader(config, ConfigPath);
        var settings = new GeneratorSettings
        {
            Users = r.Int("users", 1),
            Days = r.Int("days", 1, 3660),
            AnomalyRate = r.Double("anomaly-rate", 0, 1),
            Seed = r.Int("seed"),
            Start = DateTime.UnixEpoch.AddMilliseconds(r.TimeMs("start")),
            Items = r.Int("items", 10, 10_000_000),
            Categories = r.Int("categories", 1, 100_000),
            ItemZipfExponent = r.Double("item-zipf-exponent", 0, 5),
            SessionsPerDayMedian = r.Double("sessions-per-day-median", 0.001, 1000),
            SessionsPerDaySigma = r.Double("sessions-per-day-sigma", 0, 5),
            MaxSessionsPerDay = r.Double("max-sessions-per-day", 0.001, 1000),
            CouponRingMinSize = r.Int("coupon-ring-min-size", 1, 1000),
            CouponRingMaxSize = r.Int("coupon-ring-max-size", 1, 1000),
            AnomalyScenarios = r.Has("scenarios") ? ScenarioList(r.StringList("scenarios")) : Scenarios.Anomalous,
            Drift = r.Has("drift") ? ReadDrift(r.Nested("drift")) : DriftSettings.Off,
            Poisoning = r.Has("poisoning") ? ReadPoisoning(r.Nested("poisoning")) : PoisoningSettings.Off,
        };
        if (ScenarioProblem(settings.AnomalyScenarios) is { } problem) throw new SettingsException(r.Key("scenarios"), problem);
        if (settings.CouponRingMaxSize < settings.CouponRingMinSize)
            throw new SettingsException(r.Key("coupon-ring-max-size"), $"{settings.CouponRingMaxSize} is below coupon-ring-min-size ({settings.CouponRingMinSize})");
        if (settings.Drift.Problem(settings.Days, key => r.Key("drift." + key)) is (string driftKey, string driftProblem))
            throw new SettingsException(driftKey, driftProblem);
        if (settings.Poisoning.Problem(settings.Days, key => r.Key("poisoning." + key)) is (string poisoningKey, string poisoningProblem))
            throw new SettingsException(poisoningKey, poisoningProblem);
        return settings;
    }

    private static DriftSettings ReadDrift(SettingsReader r) => new()
    {
        Share = r.Double("share", 0, 1),
        Day = r.Int("day", 0, 3660),
        Pace = r.Double("pace", 0.01, 10),
    };

    private static PoisoningSettings ReadPoisoning(SettingsReader r)
    {
        var settings = new PoisoningSettings
        {
            Rate = r.Double("rate", 0, 1),
            StrikeDay = r.Int("strike-day", 0, 3660),
            Targets = PoisoningSettings.TargetList(r.StringList("targets")),
            SessionsPerDay = r.Double("sessions-per-day", 0.01, 1000),
        };
        if (PoisoningSettings.TargetProblem(settings.Targets) is { } problem) throw new SettingsException(r.Key("targets"), problem);
        return settings;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the property when a value is out of range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, string problem)
        {
            if (!ok) throw new ArgumentException($"{name} {problem}", name);
        }
        Check(Users >= 1, nameof(Users), $"must be positive (got {Users})");
        Check(Days is >= 1 and <= 3660, nameof(Days), $"must be in [1, 3660] (got {Days})");
        Check(AnomalyRate is >= 0 and <= 1, nameof(AnomalyRate), $"must be in [0, 1] (got {AnomalyRate})");
        Check(Start.Kind != DateTimeKind.Local, nameof(Start), "must be UTC, not local time");
        Check(Start.Year is >= 1971 and <= 9000, nameof(Start), $"is out of range ({Start:O})");
        Check(Items >= 10, nameof(Items), $"must be at least 10 (got {Items})");
        Check(Categories >= 1, nameof(Categories), $"must be positive (got {Categories})");
        Check(ItemZipfExponent is >= 0 and <= 5, nameof(ItemZipfExponent), $"must be in [0, 5] (got {ItemZipfExponent})");
        Check(SessionsPerDayMedian > 0 && double.IsFinite(SessionsPerDayMedian), nameof(SessionsPerDayMedian), "must be positive");
        Check(SessionsPerDaySigma >= 0 && double.IsFinite(SessionsPerDaySigma), nameof(SessionsPerDaySigma), "must not be negative");
        Check(MaxSessionsPerDay > 0 && double.IsFinite(MaxSessionsPerDay), nameof(MaxSessionsPerDay), "must be positive");
        Check(CouponRingMinSize >= 1, nameof(CouponRingMinSize), "must be positive");
        Check(CouponRingMaxSize >= CouponRingMinSize, nameof(CouponRingMaxSize), "must not be below CouponRingMinSize");
        Check(ScenarioProblem(AnomalyScenarios) is null, nameof(AnomalyScenarios), ScenarioProblem(AnomalyScenarios) ?? "");
        Check(Drift is not null, nameof(Drift), "must not be null");
        Check(Poisoning is not null, nameof(Poisoning), "must not be null");
        if (Drift!.Problem(Days, key => $"{nameof(Drift)}.{key}") is (string driftName, string driftProblem)) Check(false, driftName, driftProblem);
        if (Poisoning!.Problem(Days, key => $"{nameof(Poisoning)}.{key}") is (string poisoningName, string poisoningProblem)) Check(false, poisoningName, poisoningProblem);
    }

    /// <summary>The list read, or <see cref="Scenarios.Anomalous"/> itself when it names the same scenarios in the same
    /// order (so settings read from the shipped file equal <see cref="Default"/>).</summary>
    private static IReadOnlyList<string> ScenarioList(IReadOnlyList<string> read) =>
        read.SequenceEqual(Scenarios.Anomalous, StringComparer.Ordinal) ? Scenarios.Anomalous : read;

    /// <summary>What is wrong with a list of anomaly scenarios (empty, unknown or repeated names); null when nothing is.</summary>
    public static string? ScenarioProblem(IReadOnlyList<string>? scenarios)
    {
        if (scenarios is null || scenarios.Count == 0) return $"names no scenario (choose from {string.Join(", ", Scenarios.Anomalous)})";
        foreach (string name in scenarios)
            if (!Scenarios.Anomalous.Contains(name)) return $"'{name}' is not a scenario (choose from {string.Join(", ", Scenarios.Anomalous)})";
        if (scenarios.Distinct(StringComparer.Ordinal).Count() != scenarios.Count) return $"names a scenario twice ({string.Join(", ", scenarios)})";
        return null;
    }
}
