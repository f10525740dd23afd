using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// A slow poisoner (<see cref="PoisoningSettings"/>): before its strike every session is an ordinary shopper's walk
/// with, at progress p (0 at the start of the period, 1 at the strike), the target attack's traits mixed in with
/// strength p, all labelled normal (<see cref="RecordApproach"/>); then the strike is the target's own episode
/// (labelled anomalous), from the other device and address the approach made familiar. The account is not used
/// after the strike.
/// </summary>
/// <remarks>
/// The point is what an online learner may learn: each approach session is only a little further from normal than
/// the one before, so a learner that takes every unflagged session as normal moves its idea of normal toward the
/// attack, and the strike then looks normal too.
/// </remarks>
internal sealed class SlowPoisoningEpisode(string target, AnomalyEpisode strike) : AnomalyEpisode
{
    public string Target { get; } = target;

    public override bool ResumesNormalActivity => false;

    /// <summary>The strike: the target attack's episode (its device and address are the poisoner's intruder identity).</summary>
    public override void Record(EpisodeContext episode) => strike.Record(episode);

    /// <summary>Records one approach session at <paramref name="progress"/> in [0, 1] into <paramref name="episode"/>
    /// (whose <see cref="EpisodeContext.Label"/> is 0).</summary>
    public void RecordApproach(EpisodeContext episode, double progress)
    {
        var rng = episode.Rng;
        progress = Math.Clamp(progress, 0, 1);
        if (rng.Chance(progress) && episode.Intruder is (string device, string ip)) (episode.Device, episode.Ip) = (device, ip);
        if (Target == Scenarios.AccountTakeover) ApproachTakeover(episode, progress);
        else ApproachCardTesting(episode, progress);
    }

    /// <summary>Failed logins before the session, an address change at its end, and looks at the shop's most expensive
    /// items: more of each as the strike nears.</summary>
    private static void ApproachTakeover(EpisodeContext episode, double progress)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        int failures = (int)Math.Round(progress * rng.Between(1, 8));
        for (int f = 0; f < failures; f++) episode.Add(EventTypes.LoginFail, f == 0 ? 0 : episode.Gap(3, 0.6));
        Walk(episode, afterFailedLogins: failures > 0);
        int looks = (int)Math.Round(progress * rng.Between(0, 4));
        for (int l = 0; l < looks; l++)
        {
            int item = catalog.ExpensiveItems[rng.NextInt(Math.Min(30, catalog.ExpensiveItems.Count))];
            episode.Add(EventTypes.View, episode.NormalGap(ShopperState.View), item);
            if (rng.Chance(progress * 0.5)) episode.Add(EventTypes.Favorite, episode.NormalGap(ShopperState.Favorite), item);
        }
        if (rng.Chance(progress * 0.5)) episode.Add(EventTypes.AddressChange, episode.Gap(25, 0.4));
    }

    /// <summary>After an ordinary walk, a cheap item carted and checked out again and again with small amounts that mostly
    /// fail: more attempts, closer together, as the strike nears.</summary>
    private static void ApproachCardTesting(EpisodeContext episode, double progress)
    {
        var rng = episode.Rng;
        var catalog = episode.Catalog;
        Walk(episode, afterFailedLogins: false);
        int attempts = (int)Math.Round(progress * rng.Between(1, 8));
        if (attempts == 0) return;
        int item = catalog.CheapItems[rng.NextInt(Math.Min(20, catalog.CheapItems.Count))];
        episode.Add(EventTypes.View, episode.NormalGap(ShopperState.View), item);
        episode.Add(EventTypes.Cart, episode.NormalGap(ShopperState.Cart), item, Math.Min(catalog.Price(item), 5.0));
        // From a shopper's pace (20 s) toward the tester's (6 s).
        double medianSeconds = 20 - 14 * progress;
        for (int a = 0; a < attempts; a++)
        {
            double amount = Math.Round(rng.Uniform(0.5, 5.0), 2);
            episode.Add(EventTypes.Checkout, episode.Gap(medianSeconds, 0.5), item, amount);
            episode.Add(rng.Chance(0.3) ? EventTypes.Purchase : EventTypes.PayFail, episode.Gap(3, 0.4), item, amount);
        }
    }

    /// <summary>An ordinary session's walk, recorded with the episode's label; after failed logins it starts with the
    /// login that finally succeeds.</summary>
    private static void Walk(EpisodeContext episode, bool afterFailedLogins)
    {
        var session = episode.Session;
        session.Begin(episode.Rng, episode.Tempo, model: episode.WalkModel);
        bool first = true;
        while (session.TryNext(out SessionStep step))
        {
            if (first && afterFailedLogins)
            {
                if (step.Type != EventTypes.Login) episode.Add(EventTypes.Login, episode.Gap(3));
                step.GapMs = episode.Gap(step.Type == EventTypes.Login ? 3 : 8);
            }
            first = false;
            episode.Add(step);
        }
    }
}
