using StreamDetect.Models.Events;

namespace StreamDetect.Models.Features;

/// <summary>
/// The fixed layout of a user's feature vector (see <see cref="UserBehaviorState.WriteFeatures"/>).
/// Every value is already scaled for models (log1p of counts and durations, ratios in [0,1]).
/// Changing the layout changes <see cref="Version"/>; models record the version they were trained on.
/// </summary>
public static class FeatureSchema
{
    /// <summary>Bumped whenever a feature is added, removed, reordered or rescaled.</summary>
    public const int Version = 1;

    /// <summary>Horizons of the per-type counts, in seconds: 1 min, 10 min, 1 h, 24 h.</summary>
    public static IReadOnlyList<int> HorizonSeconds { get; } = [60, 600, 3600, 86400];

    private static readonly string[] HorizonNames = ["1m", "10m", "1h", "24h"];

    /// <summary>Feature names in vector order.</summary>
    public static IReadOnlyList<string> Names { get; } = BuildNames();

    /// <summary>Length of the feature vector.</summary>
    public static int Count => Names.Count;

    /// <summary>Index of a feature by name; throws for an unknown name.</summary>
    public static int IndexOf(string name)
    {
        int index = Array.IndexOf((string[])Names, name);
        if (index < 0) throw new ArgumentException($"unknown feature '{name}'", nameof(name));
        return index;
    }

    private static string[] BuildNames()
    {
        var names = new List<string>();
        var types = EventTypes.Known.Append(EventTypes.Other).ToArray();
        for (int h = 0; h < HorizonNames.Length; h++)
        {
            foreach (string type in types) names.Add($"count_{type}_{HorizonNames[h]}");
            names.Add($"count_all_{HorizonNames[h]}");
        }
        names.AddRange(
        [
            "events_total", "account_age_s", "last_gap_s", "gap_log_mean", "gap_log_std",
            "window_min_gap_s", "window_fast_gap_share", "window_distinct_items", "window_distinct_categories",
            "window_max_item_share", "window_type_entropy", "distinct_items_total", "distinct_categories_total",
            "login_fail_streak", "login_fail_streak_max", "pay_fail_streak", "pay_fail_streak_max",
            "amount_last", "amount_mean", "amount_std", "amount_max", "amount_last_z",
            "device_new", "ip_new", "devices_distinct", "ips_distinct", "events_since_new_device",
            "sessions_total", "session_events", "session_duration_s", "session_events_mean",
            "hour_sin", "hour_cos", "purchase_per_cart", "review_without_purchase_share", "since_login_s",
        ]);
        return names.ToArray();
    }
}
