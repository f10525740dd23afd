namespace StreamDetect.Stages.Generator;

/// <summary>
/// Names of the behaviours the traffic generator simulates: the truth-file values. A user is
/// <see cref="Normal"/> or belongs to exactly one anomaly scenario, whose episode starts after some
/// normal history of that user.
/// </summary>
public static class Scenarios
{
    /// <summary>An ordinary shopper (Markov sessions, see <see cref="ShopperSessionModel"/>).</summary>
    public const string Normal = "normal";

    /// <summary>Sub-second view/search/click runs over many distinct items from a datacenter IP; no purchases.</summary>
    public const string ScraperBot = "scraper_bot";

    /// <summary>Checkout/pay_fail bursts with small amounts and a few small purchases, from a new device.</summary>
    public const string CardTesting = "card_testing";

    /// <summary>A login_fail burst, a login from a new device and IP, an address change, high-value purchases.</summary>
    public const string AccountTakeover = "account_takeover";

    /// <summary>Repeated quick view, checkout, purchase, review of the same few items with similar small amounts.</summary>
    public const string OrderBrushing = "order_brushing";

    /// <summary>Many reviews at a high rate, mostly of items the user never bought.</summary>
    public const string ReviewSpam = "review_spam";

    /// <summary>A ring of accounts sharing a device and IP, each doing login, new-user coupon, first order.</summary>
    public const string CouponAbuse = "coupon_abuse";

    /// <summary>
    /// The subtle one: ordinary types, rates, amounts and devices, in an implausible order (purchase without
    /// checkout, review or refund of an item never bought, checkout straight after login with an empty cart).
    /// </summary>
    public const string ImplausibleOrder = "implausible_order";

    /// <summary>
    /// Ends the session early: a clean login from a new device and address, the shipping address changed, then the
    /// session just stops (no order, no logout).
    /// </summary>
    public const string AbandonedTakeover = "abandoned_takeover";

    /// <summary>Cart and checkout of the same ordinary items 4-12 times, never paid (no purchase, no pay_fail); the
    /// session ends at a checkout.</summary>
    public const string CheckoutLoop = "checkout_loop";

    /// <summary>One event type (view, search, cart or favorite of one item or query) 25-80 times in a row, a second or
    /// two apart, from the user's own device.</summary>
    public const string EventBurst = "event_burst";

    /// <summary>Slow poisoning toward an account takeover: sessions that drift, step by step and labelled normal, toward
    /// failed logins, another device and address, an address change and expensive items; then the takeover itself
    /// (labelled anomalous) from the device it has made familiar. Only with <see cref="PoisoningSettings"/>.</summary>
    public const string PoisoningAccountTakeover = "poisoning_account_takeover";

    /// <summary>Slow poisoning toward card testing: sessions that end, step by step and labelled normal, in more and
    /// more small failed payments of a cheap item, more and more from another device; then card testing itself
    /// (labelled anomalous). Only with <see cref="PoisoningSettings"/>.</summary>
    public const string PoisoningCardTesting = "poisoning_card_testing";

    /// <summary>The attacks a slow poisoner can move toward (<see cref="PoisoningSettings.Targets"/>).</summary>
    public static IReadOnlyList<string> PoisoningTargets { get; } = [AccountTakeover, CardTesting];

    /// <summary>The slow-poisoning scenarios (truth-file names), in the order of <see cref="PoisoningTargets"/>.</summary>
    public static IReadOnlyList<string> Poisoning { get; } = [PoisoningAccountTakeover, PoisoningCardTesting];

    /// <summary>The truth-file name of a poisoner moving toward <paramref name="target"/>.</summary>
    public static string PoisoningScenarioFor(string target) => "poisoning_" + target;

    /// <summary>The anomaly scenarios, in the order anomalous users are allotted to them (the generator's default
    /// <see cref="GeneratorSettings.AnomalyScenarios"/>).</summary>
    public static IReadOnlyList<string> Anomalous { get; } =
    [
        ScraperBot, CardTesting, AccountTakeover, OrderBrushing, ReviewSpam, CouponAbuse, ImplausibleOrder,
        AbandonedTakeover, CheckoutLoop, EventBurst,
    ];

    /// <summary><see cref="Normal"/> followed by <see cref="Anomalous"/> and <see cref="Poisoning"/>.</summary>
    public static IReadOnlyList<string> All { get; } = [Normal, .. Anomalous, .. Poisoning];
}
