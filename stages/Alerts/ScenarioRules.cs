using StreamDetect.Models.Events;
using StreamDetect.Models.Features;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// Simple rules over the alert's window (the user's events up to the alerting one) that name the scenario
/// family when it is plain to see; the first rule that holds wins, and none may hold. They only label an
/// alert that the model raised: they never raise or suppress one. Families (the generator's scenario
/// names): card_testing, account_takeover, order_brushing, review_spam, scraper_bot. Coupon abuse and an
/// implausible order of ordinary events have no rule: a coupon or a single out-of-order step is ordinary on
/// its own, and the sequence models' least expected events say more.
/// </summary>
public static class ScenarioRules
{
    /// <summary>Failed payments for one item in the window from which card testing is named.</summary>
    public const int CardTestingFailedPayments = 3;

    /// <summary>Failed logins in the window from which account takeover is named.</summary>
    public const int TakeoverFailedLogins = 3;

    /// <summary>Purchases (each followed by a review) on at most this many distinct items: order brushing.</summary>
    public const int BrushingPurchases = 3, BrushingMaxItems = 4;

    /// <summary>Reviews in the window, more than twice its purchases: review spam.</summary>
    public const int SpamReviews = 5;

    /// <summary>A window of at least this many events, all views, clicks and searches, at least half of them under a second apart: a scraper.</summary>
    public const int ScraperEvents = 20;

    public static ScenarioGuess? Classify(ReadOnlySpan<WindowEntry> window)
    {
        int payFails = 0, loginFails = 0, purchases = 0, reviews = 0, browsing = 0, fast = 0;
        var purchasedItems = new HashSet<int>();
        var failedByItem = new Dictionary<int, int>();
        for (int i = 0; i < window.Length; i++)
        {
            var e = window[i];
            switch (e.Type)
            {
                case EventTypes.PayFail:
                    payFails++;
                    failedByItem[e.ItemHash] = failedByItem.GetValueOrDefault(e.ItemHash) + 1;
                    break;
                case EventTypes.LoginFail: loginFails++; break;
                case EventTypes.Purchase: purchases++; purchasedItems.Add(e.ItemHash); break;
                case EventTypes.Review: reviews++; break;
                case EventTypes.View or EventTypes.Click or EventTypes.Search: browsing++; break;
            }
            if (i > 0 && e.TimestampMs - window[i - 1].TimestampMs < 1000) fast++;
        }
        int sameItemFails = failedByItem.Count == 0 ? 0 : failedByItem.Values.Max();
        if (sameItemFails >= CardTestingFailedPayments)
            return new ScenarioGuess("card_testing", $"{sameItemFails} failed payments for one item ({payFails} in all) among the window's {window.Length} events (rule: {CardTestingFailedPayments} or more for one item)");
        if (loginFails >= TakeoverFailedLogins)
            return new ScenarioGuess("account_takeover", $"{loginFails} failed logins among the window's {window.Length} events (rule: {TakeoverFailedLogins} or more)");
        if (purchases >= BrushingPurchases && reviews >= purchases - 1 && purchasedItems.Count <= BrushingMaxItems)
            return new ScenarioGuess("order_brushing", $"{purchases} purchases of {purchasedItems.Count} distinct items, {reviews} reviews, in the window (rule: {BrushingPurchases} or more purchases of at most {BrushingMaxItems} items, about as many reviews)");
        if (reviews >= SpamReviews && reviews > 2 * purchases)
            return new ScenarioGuess("review_spam", $"{reviews} reviews and {purchases} purchases in the window (rule: {SpamReviews} or more reviews, more than twice the purchases)");
        if (window.Length >= ScraperEvents && browsing == window.Length && 2 * fast >= window.Length - 1)
            return new ScenarioGuess("scraper_bot", $"{window.Length} views, clicks and searches and nothing else, {fast} of them under a second after the previous (rule: {ScraperEvents} or more, only browsing, half under a second apart)");
        return null;
    }
}
