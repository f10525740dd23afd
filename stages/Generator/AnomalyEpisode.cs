namespace StreamDetect.Stages.Generator;

/// <summary>
/// One anomaly scenario's episode: records the user's anomalous events into an <see cref="EpisodeContext"/>
/// starting at its clock. Episodes are stateless; adding a scenario is adding one subclass, its name in
/// <see cref="Scenarios"/> and a line in <see cref="For"/>.
/// </summary>
internal abstract class AnomalyEpisode
{
    private static readonly Dictionary<string, AnomalyEpisode> ByScenario = new(StringComparer.Ordinal)
    {
        [Scenarios.ScraperBot] = new ScraperBotEpisode(),
        [Scenarios.CardTesting] = new CardTestingEpisode(),
        [Scenarios.AccountTakeover] = new AccountTakeoverEpisode(),
        [Scenarios.OrderBrushing] = new OrderBrushingEpisode(),
        [Scenarios.ReviewSpam] = new ReviewSpamEpisode(),
        [Scenarios.CouponAbuse] = new CouponAbuseEpisode(),
        [Scenarios.ImplausibleOrder] = new ImplausibleOrderEpisode(),
        [Scenarios.AbandonedTakeover] = new AbandonedTakeoverEpisode(),
        [Scenarios.CheckoutLoop] = new CheckoutLoopEpisode(),
        [Scenarios.EventBurst] = new EventBurstEpisode(),
        [Scenarios.PoisoningAccountTakeover] = new SlowPoisoningEpisode(Scenarios.AccountTakeover, new AccountTakeoverEpisode()),
        [Scenarios.PoisoningCardTesting] = new SlowPoisoningEpisode(Scenarios.CardTesting, new CardTestingEpisode()),
    };

    public static AnomalyEpisode For(string scenario) =>
        ByScenario.TryGetValue(scenario, out var episode) ? episode : throw new ArgumentException($"no episode for scenario '{scenario}'", nameof(scenario));

    /// <summary>Whether the account goes back to normal shopping after the episode (false: it is abandoned).</summary>
    public virtual bool ResumesNormalActivity => true;

    /// <summary>Whether the user's history must track purchased items (for episodes that refer to them).</summary>
    public virtual bool NeedsPurchaseHistory => false;

    /// <summary>Whether the user's normal sessions stop short of checkout (an account that never ordered).</summary>
    public virtual bool BrowseOnlyHistory => false;

    public abstract void Record(EpisodeContext episode);
}
