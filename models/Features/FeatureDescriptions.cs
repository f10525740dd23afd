using StreamDetect.Models.Events;

namespace StreamDetect.Models.Features;

/// <summary>
/// Every feature of the <see cref="FeatureSchema"/> in plain terms (what alerts print beside its value). A test
/// keeps this list and the schema in step: a feature added to one and not the other fails it.
/// </summary>
public static class FeatureDescriptions
{
    // README "The alert, field by field" explains the decay: a burst within the period counts about its size and fades over about one period afterwards.
    private const string DecayedCount = "events (time-decayed count)";

    private static readonly Dictionary<string, string> TypeNouns = new(StringComparer.Ordinal)
    {
        [EventTypes.View] = "item views",
        [EventTypes.Search] = "searches",
        [EventTypes.Click] = "clicks",
        [EventTypes.Cart] = "items added to the cart",
        [EventTypes.RemoveCart] = "items removed from the cart",
        [EventTypes.Favorite] = "items added to favourites",
        [EventTypes.Checkout] = "checkouts",
        [EventTypes.Purchase] = "purchases",
        [EventTypes.PayFail] = "failed payments",
        [EventTypes.Refund] = "refunds",
        [EventTypes.Review] = "reviews",
        [EventTypes.Login] = "logins",
        [EventTypes.LoginFail] = "failed logins",
        [EventTypes.Logout] = "logouts",
        [EventTypes.AddressChange] = "address changes",
        [EventTypes.Coupon] = "coupons claimed",
        [EventTypes.Other] = "events of other types",
        ["all"] = "events of any type",
    };

    private static readonly Dictionary<string, string> HorizonWords = new(StringComparer.Ordinal)
    {
        ["1m"] = "in the last minute",
        ["10m"] = "in the last 10 minutes",
        ["1h"] = "in the last hour",
        ["24h"] = "in the last 24 hours",
    };

    private static readonly Dictionary<string, FeatureDescription> ByName = Build().ToDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>The descriptions in the schema's vector order.</summary>
    public static IReadOnlyList<FeatureDescription> All { get; } = FeatureSchema.Names.Select(Of).ToList();

    /// <summary>The description of a schema feature; throws for a name the schema does not have.</summary>
    public static FeatureDescription Of(string name) =>
        ByName.TryGetValue(name, out var description) ? description : throw new ArgumentException($"no description for feature '{name}'", nameof(name));

    /// <summary>The description of a feature name, if the schema has it.</summary>
    public static bool TryOf(string name, out FeatureDescription description) => ByName.TryGetValue(name, out description!);

    private static IEnumerable<FeatureDescription> Build()
    {
        foreach (string name in FeatureSchema.Names)
        {
            if (!name.StartsWith("count_", StringComparison.Ordinal)) continue;
            int cut = name.LastIndexOf('_');
            string type = name["count_".Length..cut], horizon = name[(cut + 1)..];
            yield return new FeatureDescription(name, $"{TypeNouns[type]} {HorizonWords[horizon]}", FeatureUnit.Count, DecayedCount, true);
        }

        yield return Log("events_total", "the user's events so far", FeatureUnit.Count, "events");
        yield return Log("account_age_s", "time since the user's first event", FeatureUnit.Seconds, "seconds");
        yield return Log("last_gap_s", "time since the user's previous event", FeatureUnit.Seconds, "seconds");
        yield return Log("gap_log_mean", "typical time between the user's events (geometric mean)", FeatureUnit.Seconds, "seconds");
        yield return Plain("gap_log_std", "spread of the time between the user's events (standard deviation of log(1 + seconds))", FeatureUnit.Number, "natural-log units");
        yield return Log("window_min_gap_s", "shortest time between two of the window's events", FeatureUnit.Seconds, "seconds");
        yield return Plain("window_fast_gap_share", "share of the window's events less than a second after the one before", FeatureUnit.Share, "share of events");
        yield return Plain("window_distinct_items", "distinct items per event in the window", FeatureUnit.Number, "distinct items / events");
        yield return Plain("window_distinct_categories", "distinct categories per event in the window", FeatureUnit.Number, "distinct categories / events");
        yield return Plain("window_max_item_share", "share of the window's events on its most frequent item", FeatureUnit.Share, "share of events");
        yield return Plain("window_type_entropy", "variety of event types in the window (entropy; 0 = a single type)", FeatureUnit.Number, "nats");
        yield return Log("distinct_items_total", "distinct items the user touched so far (estimate)", FeatureUnit.Count, "items");
        yield return Log("distinct_categories_total", "distinct categories the user touched so far (estimate)", FeatureUnit.Count, "categories");
        yield return Log("login_fail_streak", "failed logins in a row now", FeatureUnit.Count, "events");
        yield return Log("login_fail_streak_max", "longest run of failed logins so far", FeatureUnit.Count, "events");
        yield return Log("pay_fail_streak", "failed payments in a row now", FeatureUnit.Count, "events");
        yield return Log("pay_fail_streak_max", "longest run of failed payments so far", FeatureUnit.Count, "events");
        yield return Log("amount_last", "amount of the user's latest event with an amount", FeatureUnit.Amount, "currency of the events");
        yield return Log("amount_mean", "the user's average amount", FeatureUnit.Amount, "currency of the events");
        yield return Log("amount_std", "spread of the user's amounts (standard deviation)", FeatureUnit.Amount, "currency of the events");
        yield return Log("amount_max", "the user's largest amount", FeatureUnit.Amount, "currency of the events");
        yield return Plain("amount_last_z", "latest amount against the user's own average (standard deviations, -10..10)", FeatureUnit.Number, "standard deviations");
        yield return Plain("device_new", "the event came from a device the user had not used before", FeatureUnit.Flag, "yes/no");
        yield return Plain("ip_new", "the event came from an IP address the user had not used before", FeatureUnit.Flag, "yes/no");
        yield return Plain("devices_distinct", $"distinct devices the user used (at most {BehaviorProfile.DeviceSlots} are counted)", FeatureUnit.Count, "devices");
        yield return Plain("ips_distinct", $"distinct IP addresses the user used (at most {BehaviorProfile.DeviceSlots} are counted)", FeatureUnit.Count, "IP addresses");
        yield return Log("events_since_new_device", "events since the user last appeared on a new device", FeatureUnit.Count, "events");
        yield return Log("sessions_total", "the user's sessions so far", FeatureUnit.Count, "sessions");
        yield return Log("session_events", "events in the current session", FeatureUnit.Count, "events");
        yield return Log("session_duration_s", "length of the current session", FeatureUnit.Seconds, "seconds");
        yield return Log("session_events_mean", "the user's average events per session", FeatureUnit.Count, "events");
        yield return Plain("hour_sin", "time of day of the event (sine of the UTC hour on the 24-hour circle)", FeatureUnit.Number, "-1..1");
        yield return Plain("hour_cos", "time of day of the event (cosine of the UTC hour on the 24-hour circle)", FeatureUnit.Number, "-1..1");
        yield return Plain("purchase_per_cart", "purchases per item added to the cart (at most 4)", FeatureUnit.Number, "purchases / cart additions");
        yield return Plain("review_without_purchase_share", "share of the user's reviews of items it had not bought", FeatureUnit.Share, "share of reviews");
        yield return Log("since_login_s", "time since the user's last login (30 days when none)", FeatureUnit.Seconds, "seconds");
    }

    private static FeatureDescription Log(string name, string meaning, FeatureUnit unit, string unitText) => new(name, meaning, unit, unitText, true);

    private static FeatureDescription Plain(string name, string meaning, FeatureUnit unit, string unitText) => new(name, meaning, unit, unitText, false);
}
