using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// The subtle scenario: one to three sessions drawn from the normal shopper model (same types, gaps, prices,
/// the user's own devices and addresses), each with one or two steps out of order: a purchase with no
/// checkout before it, a review or a refund of an item the user never bought, a checkout straight after
/// login with nothing in the cart. Counts and rates stay ordinary; only the order gives it away.
/// </summary>
internal sealed class ImplausibleOrderEpisode : AnomalyEpisode
{
    private const int MaxSessionSteps = 60;

    private enum Violation { PurchaseWithoutCheckout, ReviewBeforePurchase, RefundBeforePurchase, CheckoutAfterLogin }

    public override bool NeedsPurchaseHistory => true;

    public override void Record(EpisodeContext episode)
    {
        var rng = episode.Rng;
        var steps = new List<SessionStep>();
        int sessions = rng.Between(1, 3);
        for (int s = 0; s < sessions; s++)
        {
            if (s > 0)
            {
                episode.Wait((long)rng.Uniform(20 * 60_000, 90 * 60_000));
                episode.NewSession();
                (episode.Device, episode.Ip) = episode.Identity.ForSession(rng);
            }

            steps.Clear();
            episode.Session.Begin(rng, episode.Tempo);
            while (steps.Count < MaxSessionSteps && episode.Session.TryNext(out SessionStep step)) steps.Add(step);

            int violations = rng.Between(1, 2);
            Violation first = (Violation)rng.NextInt(4);
            Apply(first, steps, episode);
            if (violations == 2) Apply((Violation)(((int)first + 1 + rng.NextInt(3)) % 4), steps, episode);

            for (int i = 0; i < steps.Count; i++)
            {
                SessionStep step = steps[i];
                if (i == 0) step.GapMs = 0;
                episode.Add(step);
                if (step.Type == EventTypes.Purchase) episode.PurchasedBefore.Add(step.Item);
            }
        }
    }

    private static void Apply(Violation violation, List<SessionStep> steps, EpisodeContext episode)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        switch (violation)
        {
            case Violation.PurchaseWithoutCheckout:
            {
                int at = RandomViewOf(steps, rng, _ => true);
                if (at < 0)
                {
                    steps.Add(new SessionStep(EventTypes.View, episode.NormalGap(ShopperState.View), catalog.SampleItem(rng)));
                    at = steps.Count - 1;
                }
                int item = steps[at].Item;
                steps.Insert(at + 1, new SessionStep(EventTypes.Purchase, episode.NormalGap(ShopperState.Purchase), item, catalog.Price(item)));
                break;
            }
            case Violation.ReviewBeforePurchase:
            {
                int at = RandomViewOf(steps, rng, item => NeverBought(item, steps, episode));
                if (at < 0)
                {
                    int item = Unbought(steps, episode);
                    at = rng.NextInt(steps.Count + 1);
                    steps.Insert(at, new SessionStep(EventTypes.View, episode.NormalGap(ShopperState.View), item));
                }
                steps.Insert(at + 1, new SessionStep(EventTypes.Review, episode.NormalGap(ShopperState.Review), steps[at].Item));
                break;
            }
            case Violation.RefundBeforePurchase:
            {
                int item = Unbought(steps, episode);
                steps.Insert(rng.NextInt(steps.Count + 1), new SessionStep(EventTypes.Refund, episode.NormalGap(ShopperState.Refund), item, catalog.Price(item)));
                break;
            }
            case Violation.CheckoutAfterLogin:
            {
                while (steps.Count > 0 && steps[0].Type is EventTypes.Login or EventTypes.LoginFail) steps.RemoveAt(0);
                if (steps.Count > 0) steps[0] = steps[0] with { GapMs = episode.NormalGap(ShopperState.View) };
                int item = catalog.SampleItem(rng);
                steps.Insert(0, new SessionStep(EventTypes.Login, 0));
                steps.Insert(1, new SessionStep(EventTypes.Checkout, episode.NormalGap(ShopperState.Checkout), item, catalog.Price(item)));
                if (rng.Chance(0.5)) steps.Insert(2, new SessionStep(EventTypes.PayFail, episode.NormalGap(ShopperState.PayFail), item, catalog.Price(item)));
                break;
            }
        }
    }

    /// <summary>Index of a random view step whose item satisfies <paramref name="accept"/>, or -1.</summary>
    private static int RandomViewOf(List<SessionStep> steps, Xoshiro256StarStar rng, Func<int, bool> accept)
    {
        int chosen = -1, seen = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            if (steps[i].Type != EventTypes.View || steps[i].Item < 0 || !accept(steps[i].Item)) continue;
            seen++;
            if (rng.NextInt(seen) == 0) chosen = i; // reservoir sampling of one
        }
        return chosen;
    }

    private static bool NeverBought(int item, List<SessionStep> steps, EpisodeContext episode) =>
        !episode.PurchasedBefore.Contains(item) && !steps.Exists(s => s.Item == item && s.Type == EventTypes.Purchase);

    private static int Unbought(List<SessionStep> steps, EpisodeContext episode)
    {
        int item = episode.Catalog.SampleItem(episode.Rng);
        for (int attempt = 0; attempt < 20 && !NeverBought(item, steps, episode); attempt++) item = episode.Catalog.SampleItem(episode.Rng);
        return item;
    }
}
