using System.Text;
using StreamDetect.Engine.Online;
using StreamDetect.Engine.Registry;
using StreamDetect.Integration.Tests.Registry;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Online;

/// <summary>
/// The promotion rule for a champion that is itself outside the band (after a release moved normal behaviour): a shadow
/// far below it on the same users is promoted although still above the band, and such a champion is rolled back only once
/// it is no longer below the champion it replaced. Scripted verdicts: the base champion alerts on every request from the
/// moment a shadow scores (the "release"), the shadow on a quarter of the users.
/// </summary>
public sealed class OutOfBandPromotionTests(OnlineTraffic traffic) : IClassFixture<OnlineTraffic>
{
    /// <summary>Offline gates that pass whatever the round made: only the live rates decide here.</summary>
    private static readonly Models.Online.OnlineLearningOptions Passing =
        OnlineTraffic.Options with { RecentLossTolerance = 10, AnchorLossTolerance = 10, CanaryRecallDrop = 1 };

    private static bool Quarter(string user)
    {
        int h = 17;
        foreach (char c in user) h = h * 31 + c;
        return (uint)h % 4 == 0;
    }

    /// <summary>Runs one round's candidate through shadow and what follows; <paramref name="promotedAlerts"/> says which users the promoted version alerts.</summary>
    private (OnlineTrainer Trainer, ScriptedSchedule Schedule) Drive(ModelRegistry registry, OnlineTrainerSettings settings, Func<string, bool> promotedAlerts)
    {
        var schedule = new ScriptedSchedule((long)settings.Cadence.TotalMilliseconds);
        var trainer = traffic.Trainer(schedule, Passing, settings, registry);
        var requests = traffic.Decided(traffic.Live, (_, _, _) => false);
        int alerts = 0;
        TrainerDrive.Run(trainer, schedule, requests, (plan, request) =>
        {
            string user = request.Request.UserId;
            ShadowVerdicts? shadow = null;
            if (plan.Shadow is { } s)
                shadow = new ShadowVerdicts($"{s.Name}@{s.Version}", request.Output, Quarter(user) ? [Alert($"shadow-{++alerts}", request)] : []);
            bool championAlerts = plan.Champion.Version == traffic.Champion.Version ? plan.Shadow is not null : promotedAlerts(user);
            return (championAlerts ? request with { Alerts = [Alert($"champion-{++alerts}", request)] } : request, shadow);
        });
        return (trainer, schedule);
    }

    private static AlertRecord Alert(string id, DecidedRequest request) =>
        new(id, request.Request.UserId, request.Request.LastEventMs, request.Request.OrderKeys[0], request.Request.EventIndexOf(0), Encoding.UTF8.GetBytes("{}"));

    [Fact]
    public void A_shadow_far_below_an_out_of_band_champion_is_promoted_and_kept_while_it_stays_below_it()
    {
        using var store = new RegistryStore("sqlite");
        var registry = ModelRegistry.Open(store.Settings);
        StartupRegistration.Register(store.Settings, traffic.Champion, OriginDetail.None, TextWriter.Null);
        var settings = OnlineTraffic.Settings with { MaxRounds = 1 };
        // Promoted, it alerts the same quarter of the users: still above the band (2%), but below the 100% it replaced.
        var (trainer, schedule) = Drive(registry, settings, Quarter);
        using var _ = trainer;

        string candidate = Assert.Single(trainer.Transitions, t => t.Status == "candidate").Version;
        Assert.Equal(["candidate", "shadow", "champion"], trainer.Transitions.Where(t => t.Version == candidate).Select(t => t.Status));
        var promotion = trainer.Transitions.Single(t => t.Version == candidate && t.Status == "champion");
        Assert.StartsWith("champion out of band: 100.00 % vs shadow ", promotion.Reason);
        Assert.Contains(promotion.Gates, g => g.Gate == "shadow-alert-rate" && !g.Passed);
        Assert.Contains(promotion.Gates, g => g.Gate == OnlineTrainer.ShadowVersusChampionGate && g.Passed && g.Value <= g.Bound);
        Assert.Equal(candidate, schedule.Resolved[^1].Plan.Champion.Version);
        Assert.Contains(schedule.Resolved, r => r.Plan.Reason.Contains("kept after its rollback window"));
        Assert.Equal(candidate, registry.Champion()!.Id);
        var promoted = registry.History(candidate).Single(h => h.Event == LifecycleEvent.Promoted);
        Assert.StartsWith("champion out of band: ", promoted.Reason);
        Assert.Equal(traffic.Champion.Version, promoted.PreviousChampion);
    }

    [Fact]
    public void An_out_of_band_promotion_no_longer_below_the_champion_it_replaced_is_rolled_back()
    {
        using var store = new RegistryStore("sqlite");
        var registry = ModelRegistry.Open(store.Settings);
        StartupRegistration.Register(store.Settings, traffic.Champion, OriginDetail.None, TextWriter.Null);
        // Promoted, it alerts every user: as bad as the champion it replaced, so it goes.
        var (worse, _) = Drive(registry, OnlineTraffic.Settings with { MaxRounds = 1 }, _ => true);
        using var _ = worse;
        string candidate = Assert.Single(worse.Transitions, t => t.Status == "candidate").Version;
        Assert.Equal(["candidate", "shadow", "champion", "rejected"], worse.Transitions.Where(t => t.Version == candidate).Select(t => t.Status));
        Assert.Contains("not below the champion it replaced", registry.History(candidate).Single(h => h.Event == LifecycleEvent.RolledBack).Reason);
        Assert.Equal(traffic.Champion.Version, registry.Champion()!.Id);
    }

    [Fact]
    public void With_the_rule_off_the_same_shadow_is_rejected_for_being_outside_the_band()
    {
        using var store = new RegistryStore("sqlite");
        var registry = ModelRegistry.Open(store.Settings);
        StartupRegistration.Register(store.Settings, traffic.Champion, OriginDetail.None, TextWriter.Null);
        var (rejected, schedule) = Drive(registry, OnlineTraffic.Settings with { MaxRounds = 1, ChampionOutOfBandRatio = 0 }, Quarter);
        using var _ = rejected;
        string candidate = Assert.Single(rejected.Transitions, t => t.Status == "candidate").Version;
        Assert.Equal(["candidate", "shadow", "rejected"], rejected.Transitions.Where(t => t.Version == candidate).Select(t => t.Status));
        Assert.Contains("the champion 100.00 % on the same users", rejected.Transitions.Single(t => t.Version == candidate && t.Status == "rejected").Reason);
        Assert.All(schedule.Resolved, r => Assert.Equal(traffic.Champion.Version, r.Plan.Champion.Version));
    }
}
