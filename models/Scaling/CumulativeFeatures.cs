using StreamDetect.Models.Features;

namespace StreamDetect.Models.Scaling;

/// <summary>
/// Features that only grow over an account's life (totals, ages, running maxima, distinct counts).
/// Models trained on a few days of history would see larger values every later day and call long-lived
/// users anomalous for being long-lived, so the feature models leave these out (they scale to 0); the
/// windowed, decayed and ratio features carry the same behaviour without the drift.
/// </summary>
public static class CumulativeFeatures
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "events_total", "account_age_s", "distinct_items_total", "distinct_categories_total",
        "login_fail_streak_max", "pay_fail_streak_max", "amount_max", "devices_distinct", "ips_distinct",
        "events_since_new_device", "sessions_total",
    ];

    /// <summary>Per feature of the schema: whether it is cumulative.</summary>
    public static bool[] Mask { get; } = FeatureSchema.Names.Select(n => Names.Contains(n)).ToArray();
}
