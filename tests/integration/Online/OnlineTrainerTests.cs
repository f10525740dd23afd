using System.Text;
using StreamDetect.Engine.Online;
using StreamDetect.Engine.Registry;
using StreamDetect.Integration.Tests.Registry;
using StreamDetect.Models.Online;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Failures;
using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Online;

/// <summary>The online trainer against a scripted schedule (the scoring side's test double), on real models and a real registry.</summary>
public sealed class OnlineTrainerTests(OnlineTraffic traffic) : IClassFixture<OnlineTraffic>
{
    private static bool Group(string user, int modulo, int rest) => (uint)StableHash(user) % modulo == rest;

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (char c in s) h = h * 31 + c;
        return h;
    }

    [Fact]
    public void Guards_refuse_alerted_cooled_down_and_feedback_positive_users_through_the_trainer()
    {
        // No round trains here (too few sample users wanted): only what the guard admits is under test. The alert
        // quarantine off, so that only the late label purges (the quarantine has its own test).
        var settings = OnlineTraffic.Settings with { MinSampleUsers = 100_000, SampleShare = 1.0 };
        var schedule = new ScriptedSchedule((long)settings.Cadence.TotalMilliseconds);
        using var trainer = traffic.Trainer(schedule, OnlineTraffic.Options with { AlertQuarantine = TimeSpan.Zero }, settings);
        // Users of group 0 alert on their first request and are in cooldown for 6 h after it; group 1 is labelled
        // anomalous before anything is decided; one user of the rest is labelled anomalous late, once it has samples.
        var requests = traffic.Decided(traffic.Live, (user, _, _) => Group(user, 5, 0));
        var alerted = requests.Where(r => r.Alerts.Count > 0).Select(r => r.Request.UserId).ToHashSet();
        var positive = traffic.Live.Users.Select(u => u.UserId).Where(u => Group(u, 5, 1)).ToHashSet();
        foreach (string user in positive) trainer.Feedback(new FeedbackLabel(user, 1, null));
        string? late = null;
        int purgedAt = -1;
        TrainerDrive.Run(trainer, schedule, requests, atBoundary: _ =>
        {
            if (late is not null || trainer.BoundariesResolved < 4) return;
            late = trainer.BufferedUsers.Where(u => !Group(u, 5, 0) && !Group(u, 5, 1)).Order(StringComparer.Ordinal).FirstOrDefault();
            if (late is null) return;
            trainer.Feedback(new FeedbackLabel(late, 1, null));
            purgedAt = trainer.BoundariesResolved;
        });

        var counts = trainer.GuardCounts;
        Assert.True(counts[nameof(GuardVerdict.Alerted)] >= alerted.Count, $"alerted refusals {counts[nameof(GuardVerdict.Alerted)]}");
        Assert.True(counts[nameof(GuardVerdict.InCooldown)] > 0, "no request was refused for its cooldown");
        Assert.True(counts[nameof(GuardVerdict.FeedbackPositive)] > 0, "no request was refused for positive feedback");
        Assert.True(counts[nameof(GuardVerdict.Purged)] > 0, "the late label purged nothing");
        Assert.NotNull(late);
        var buffered = trainer.BufferedUsers;
        Assert.NotEmpty(buffered);
        Assert.DoesNotContain(buffered, u => alerted.Contains(u) || positive.Contains(u) || u == late);
    }

    [Fact]
    public void An_alert_quarantines_its_user_past_the_cooldown_through_the_trainer_sampled_or_not()
    {
        // A third of the users alert on their first request only (a cooldown of 6 h follows); half the requests are offered
        // to the guard, so many of those alerts reach it only as the trainer tells them. No round trains.
        var first = new HashSet<string>(StringComparer.Ordinal);
        var requests = traffic.Decided(traffic.Live, (user, _, _) => Group(user, 3, 0) && first.Add(user));
        var alerted = requests.Where(r => r.Alerts.Count > 0).Select(r => r.Request.UserId).ToHashSet(StringComparer.Ordinal);
        Assert.True(alerted.Count >= 10, $"{alerted.Count} users alerted");
        var settings = OnlineTraffic.Settings with { MinSampleUsers = 100_000 };

        var (on, onBuffered) = Run(OnlineTraffic.Options with { AlertQuarantine = TimeSpan.FromDays(3) });
        var (off, offBuffered) = Run(OnlineTraffic.Options with { AlertQuarantine = TimeSpan.Zero });
        // Without the quarantine an alerted user is learned again once its cooldown is over; with it, never in these two days.
        Assert.Contains(offBuffered, alerted.Contains);
        Assert.DoesNotContain(onBuffered, alerted.Contains);
        Assert.True(on[nameof(GuardVerdict.Quarantined)] > 0, "nothing was quarantined");
        Assert.Equal(0, off[nameof(GuardVerdict.Quarantined)]);
        // The other users are learned as before.
        Assert.Equal(offBuffered.Where(u => !alerted.Contains(u)).Order(), onBuffered.Where(u => !alerted.Contains(u)).Order());

        (IReadOnlyDictionary<string, long>, IReadOnlySet<string>) Run(Models.Online.OnlineLearningOptions o)
        {
            var schedule = new ScriptedSchedule((long)settings.Cadence.TotalMilliseconds);
            using var trainer = traffic.Trainer(schedule, o, settings);
            TrainerDrive.Run(trainer, schedule, requests);
            return (trainer.GuardCounts, trainer.BufferedUsers);
        }
    }

    [Fact]
    public void A_release_shown_by_a_population_is_held_by_the_new_type_rule_and_refused_with_the_rule_off()
    {
        var released = Models.Dataset.DatasetBuilder.Build(new Stages.Generator.TrafficGenerator(Stages.Generator.GeneratorSettings.Default with
        {
            Users = 160, Days = 2, Seed = 9, Start = OnlineTraffic.LiveStart, Drift = new Stages.Generator.DriftSettings { Share = 0.5, Day = 1 },
        }).Events(), OnlineTraffic.Window, OnlineTraffic.Sessions);
        string[] newTypes = ["assistant", "express_checkout"];
        var showing = released.Users.Where(u => u.Entries.Any(e => newTypes.Contains(e.Type))).Select(u => u.UserId).ToHashSet();
        Assert.True(showing.Count >= 20, $"{showing.Count} users show a new type");
        // No round trains: what the guard admits is under test. Requests at the top of the small champion's calibrated scale (1.3 or more: its highest is 1.37) alert.
        var settings = OnlineTraffic.Settings with { MinSampleUsers = 100_000, SampleShare = 1.0 };
        // The alert quarantine off for the comparison below (with the rule off it would also quarantine the users whose alerts the rule explains); on at the end.
        var options = OnlineTraffic.Options with { NewTypeRuleMinUsers = 10, NewTypeRuleMinDevices = 10, NewTypeRuleMinIps = 10, BufferMaxAge = TimeSpan.Zero, AlertQuarantine = TimeSpan.Zero };
        var requests = traffic.Decided(released, (_, score, _) => score >= 1.3);
        var alerted = requests.Where(r => r.Alerts.Count > 0).Select(r => r.Request.UserId).ToHashSet();
        Assert.True(alerted.Any(showing.Contains), $"no user showing a new type alerted (highest score {requests.Where(r => showing.Contains(r.Request.UserId)).Max(r => r.Output.Score)}, " +
            $"{requests.Count(r => showing.Contains(r.Request.UserId))} requests; others {requests.Where(r => !showing.Contains(r.Request.UserId)).Max(r => r.Output.Score)})");

        var (on, onBuffered, onPopulous) = Run(options);
        Assert.Equal(newTypes, onPopulous);
        Assert.True(on[nameof(GuardVerdict.HeldBackNewTypes)] > 0, "the new-type rule held nothing");
        Assert.Contains(onBuffered, u => showing.Contains(u) && alerted.Contains(u));
        var (off, offBuffered, offPopulous) = Run(options with { NewTypeRule = false });
        Assert.Empty(offPopulous);
        Assert.Equal(0, off[nameof(GuardVerdict.HeldBackNewTypes)]);
        // Every sample the rule held is one the other rules refused with the rule off (an alert, a cooldown, a score), and no other changed.
        string[] refusals = [nameof(GuardVerdict.Alerted), nameof(GuardVerdict.InCooldown), nameof(GuardVerdict.AboveChampionQuantile), nameof(GuardVerdict.AboveBaseQuantile)];
        Assert.Equal(refusals.Sum(r => off[r]), refusals.Sum(r => on[r]) + on[nameof(GuardVerdict.HeldBackNewTypes)]);
        Assert.Equal(off[nameof(GuardVerdict.HeldBack)], on[nameof(GuardVerdict.HeldBack)]);
        Assert.True(on[nameof(GuardVerdict.Admitted)] > off[nameof(GuardVerdict.Admitted)], $"admitted {on[nameof(GuardVerdict.Admitted)]} with the rule, {off[nameof(GuardVerdict.Admitted)]} without");
        // Users of known types only are judged as before: the same alerted ones refused.
        Assert.Equal(offBuffered.Where(u => !showing.Contains(u)).Order(), onBuffered.Where(u => !showing.Contains(u)).Order());
        // The alert quarantine spares an alert the new types alone raised: with it on, such users are still learned.
        var (quarantined, quarantineBuffered, _) = Run(options with { AlertQuarantine = TimeSpan.FromDays(3) });
        Assert.Contains(quarantineBuffered, u => showing.Contains(u) && alerted.Contains(u));
        Assert.True(quarantined[nameof(GuardVerdict.HeldBackNewTypes)] > 0, "the new-type rule held nothing with the quarantine on");

        (IReadOnlyDictionary<string, long>, IReadOnlySet<string>, IReadOnlyList<string>) Run(Models.Online.OnlineLearningOptions o)
        {
            var schedule = new ScriptedSchedule((long)settings.Cadence.TotalMilliseconds);
            using var trainer = traffic.Trainer(schedule, o, settings);
            TrainerDrive.Run(trainer, schedule, requests);
            return (trainer.GuardCounts, trainer.BufferedUsers, trainer.PopulousNewTypes);
        }
    }

    [Fact]
    public void A_candidate_fine_tuned_on_attack_traffic_is_rejected_and_never_scores_or_alerts()
    {
        // Guards off and the widest moves the options allow: the candidate learns the attackers' sequences as normal.
        // Recall at the score that alerts 10% of the 60 anchor users: 0.5% of them would be the highest anchor alone, above
        // which the small champion puts no canary (per-user highest scores over two days of history).
        // The sign test off (significance 1: any net loss above drop x n fails). How many of the 20 canaries the small
        // champion catches depends on the machine's float kernels: 3 on one machine (the same versions every run), where
        // losing all 3 has P 0.125 and the 0.05 test cannot fail it, while the same test passed in CI on another. What
        // is tested here is that the gate stops the attack-trained candidate.
        var options = OnlineTraffic.Options with { Guards = false, LearningRate = 0.01, StepsPerVersion = 30, MaxDistance = 1, DistancePenalty = 0, AnchorShare = 0.1, AlertBudget = 0.1, CanarySignificance = 1 };
        var settings = OnlineTraffic.Settings with { SampleShare = 1.0, MaxRounds = 2 };
        var schedule = new ScriptedSchedule((long)settings.Cadence.TotalMilliseconds);
        using var trainer = traffic.Trainer(schedule, options, settings);
        var attackers = traffic.Attacks.WithoutLabelledUsers().Users.Select(u => u.UserId).ToHashSet();
        var requests = traffic.Decided(new Models.Dataset.BehaviorDataset(traffic.Attacks.Users.Where(u => !attackers.Contains(u.UserId)).ToArray(), OnlineTraffic.Window),
            (_, _, _) => false);
        TrainerDrive.Run(trainer, schedule, requests);

        string gates = string.Join("; ", trainer.Transitions.Select(t => $"{t.Version} {t.Status}: {string.Join(", ", t.Gates.Select(g => $"{g.Gate} {g.Value:G3} vs {g.Bound:G3}"))}"));
        var candidates = trainer.Transitions.Where(t => t.Status == "candidate").ToList();
        Assert.NotEmpty(candidates);
        foreach (var candidate in candidates)
        {
            Assert.Contains(trainer.Transitions, t => t.Version == candidate.Version && t.Status == "rejected");
            // The champion catches canaries, and the canary gate is what the attack-trained candidate fails.
            var canary = Assert.Single(candidate.Gates, g => g.Gate == PromotionGates.CanaryRecall);
            Assert.True(canary.Bound > 0 && !canary.Passed, gates);
        }
        Assert.All(schedule.Resolved, r => Assert.Equal(traffic.Champion.Version, r.Plan.Champion.Version));
        // Gates first: a candidate that failed them is never even scored in shadow.
        Assert.All(schedule.Resolved, r => Assert.True(r.Plan.Shadow is null || !candidates.Any(c => c.Version == r.Plan.Shadow.Version) ||
            trainer.Transitions.Any(t => t.Version == r.Plan.Shadow.Version && t.Status == "shadow")));
        Assert.Contains(trainer.Transitions, t => t.Status == "rejected" && t.Gates.Any(g => !g.Passed));
    }

    [Fact]
    public void Promotion_then_a_champion_outside_the_band_is_rolled_back_with_every_step_in_the_registry()
    {
        using var store = new RegistryStore("sqlite");
        var registry = ModelRegistry.Open(store.Settings);
        StartupRegistration.Register(store.Settings, traffic.Champion, OriginDetail.None, TextWriter.Null);
        // Gates that pass whatever the round made; the shadow alerts nobody (rate 0, inside [0, 4 x budget]); once
        // promoted, the new champion alerts on every request (rate 1, outside): it must be rolled back.
        var options = OnlineTraffic.Options with { RecentLossTolerance = 10, AnchorLossTolerance = 10, CanaryRecallDrop = 1 };
        var settings = OnlineTraffic.Settings with { MaxRounds = 1 };
        var schedule = new ScriptedSchedule((long)settings.Cadence.TotalMilliseconds);
        using var trainer = traffic.Trainer(schedule, options, settings, registry);
        var requests = traffic.Decided(traffic.Live, (_, _, _) => false);
        int alerts = 0;
        TrainerDrive.Run(trainer, schedule, requests, (plan, request) =>
        {
            var shadow = plan.Shadow is { } s ? new ShadowVerdicts($"{s.Name}@{s.Version}", request.Output, []) : null;
            if (plan.Champion.Version == traffic.Champion.Version) return (request, shadow);
            var alert = new AlertRecord($"promoted-{++alerts}", request.Request.UserId, request.Request.LastEventMs, request.Request.OrderKeys[0], request.Request.EventIndexOf(0), Encoding.UTF8.GetBytes("{}"));
            return (request with { Alerts = [alert] }, shadow);
        });

        string candidate = Assert.Single(trainer.Transitions, t => t.Status == "candidate").Version;
        Assert.Equal(["candidate", "shadow", "champion", "rejected"], trainer.Transitions.Where(t => t.Version == candidate).Select(t => t.Status));
        Assert.Contains(schedule.Resolved, r => r.Plan.Champion.Version == candidate);
        Assert.Equal(traffic.Champion.Version, schedule.Resolved[^1].Plan.Champion.Version);
        Assert.Equal(traffic.Champion.Version, registry.Champion()!.Id);

        var version = registry.Require(candidate);
        Assert.Equal((ModelOrigin.FineTuned, traffic.Champion.Version, ModelStatus.Rejected), (version.Origin, version.ParentId, version.Status));
        Assert.True(version.Detail.Samples > 0 && version.Detail.Steps == options.StepsPerVersion, $"detail {version.Detail}");
        Assert.Contains(version.Gates, g => g.Gate == PromotionGates.CanaryRecall);
        Assert.Contains(version.Gates, g => g.Gate == "shadow-alert-rate" && g.Passed);
        Assert.Contains(version.Gates, g => g.Gate == "champion-alert-rate" && !g.Passed);
        Assert.Equal([LifecycleEvent.Registered, LifecycleEvent.Shadow, LifecycleEvent.Promoted, LifecycleEvent.RolledBack],
            registry.History(candidate).Select(h => h.Event));
        Assert.Equal([LifecycleEvent.Registered, LifecycleEvent.Promoted, LifecycleEvent.Retired, LifecycleEvent.Restored],
            registry.History(traffic.Champion.Version).Select(h => h.Event));
    }

    [Fact]
    public void Without_canaries_a_round_trains_and_its_candidate_is_registered_and_rejected_by_the_canary_gate()
    {
        // A run whose training days hold no attack user has no canaries: the canary gate is not measured (NaN). Its
        // gate figures once failed the registry's JSON, and every round was logged as "no candidate" with 0 steps.
        using var store = new RegistryStore("sqlite");
        var registry = ModelRegistry.Open(store.Settings);
        StartupRegistration.Register(store.Settings, traffic.Champion, OriginDetail.None, TextWriter.Null);
        var settings = OnlineTraffic.Settings with { MaxRounds = 1 };
        var schedule = new ScriptedSchedule((long)settings.Cadence.TotalMilliseconds);
        var log = new StringWriter();
        using var trainer = traffic.Trainer(schedule, settings: settings, registry: registry, log: log,
            canaries: new Models.Dataset.BehaviorDataset([], OnlineTraffic.Window));

        TrainerDrive.Run(trainer, schedule, traffic.Decided(traffic.Live, (_, _, _) => false));

        var round = Assert.Single(trainer.Rounds);
        Assert.True(round.Candidate is not null && round.Failure is null, log.ToString());
        Assert.Equal(OnlineTraffic.Options.StepsPerVersion, round.Steps);
        Assert.Equal(["candidate", "rejected"], trainer.Transitions.Where(t => t.Version == round.Candidate).Select(t => t.Status));
        var version = registry.Require(round.Candidate!);
        Assert.Equal(ModelStatus.Rejected, version.Status);
        Assert.Equal(OnlineTraffic.Options.StepsPerVersion, version.Detail.Steps);
        var canary = Assert.Single(version.Gates, g => g.Gate == PromotionGates.CanaryRecall);
        Assert.True(double.IsNaN(canary.Value) && double.IsNaN(canary.Bound) && !canary.Passed, $"{canary}");
        Assert.DoesNotContain("JSON", log.ToString());
    }

    [Fact]
    public void Boundaries_whose_buffer_holds_too_few_users_start_no_round_and_say_why_in_one_line()
    {
        // Every user alerts on its first event: the guard refuses everything after (alerted, cooldown, quarantine), so
        // no sample reaches the buffer and no round starts.
        var schedule = new ScriptedSchedule((long)OnlineTraffic.Settings.Cadence.TotalMilliseconds);
        var log = new StringWriter();
        using var trainer = traffic.Trainer(schedule, log: log);

        TrainerDrive.Run(trainer, schedule, traffic.Decided(traffic.Live, (_, _, _) => true));

        Assert.Empty(trainer.Rounds);
        Assert.DoesNotContain(trainer.Transitions, t => t.Status == "candidate");
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var noRound = lines.Where(l => l.Contains(": no round: ")).ToList();
        Assert.Equal(trainer.BoundariesResolved, noRound.Count);
        Assert.All(noRound, l => Assert.Matches(
            @"^online learning: boundary \S+ \S+: no round: the sample buffer holds 0 samples of 0 users, streamdetect\.online-learning\.min-sample-users = 6; guard so far: ", l));
        Assert.Contains("Alerted ", noRound[^1]);
        Assert.DoesNotContain(lines, l => l.Contains("Exception") || l.Contains("JSON"));
    }

    [Fact]
    public void Two_runs_with_requests_arriving_in_other_orders_resolve_every_boundary_the_same()
    {
        var options = OnlineTraffic.Options with { RecentLossTolerance = 10, AnchorLossTolerance = 10, CanaryRecallDrop = 1 };
        var settings = OnlineTraffic.Settings with { MaxRounds = 2 };
        var requests = traffic.Decided(traffic.Live, (_, score, _) => score > 3);
        var runs = new[] { 1, 2 }.Select(seed =>
        {
            var schedule = new ScriptedSchedule((long)settings.Cadence.TotalMilliseconds);
            using var trainer = traffic.Trainer(schedule, options, settings);
            TrainerDrive.Run(trainer, schedule, requests, (plan, request) =>
                (request, plan.Shadow is { } s ? new ShadowVerdicts($"{s.Name}@{s.Version}", request.Output, []) : null), shuffleSeed: seed);
            return (Plans: schedule.Resolved.Select(r => $"{r.Boundary} {r.Plan.Champion.Version} {r.Plan.Shadow?.Version} {r.Plan.Reason}").ToList(),
                Versions: trainer.Transitions.Select(t => $"{t.BoundaryKey} {t.Version} {t.Status} {t.Reason}").ToList());
        }).ToList();

        Assert.Contains(runs[0].Versions, v => v.Contains(" candidate "));
        Assert.Contains(runs[0].Plans, p => !p.EndsWith(" unchanged"));
        Assert.Equal(runs[0].Plans, runs[1].Plans);
        Assert.Equal(runs[0].Versions, runs[1].Versions);
    }

    [Fact]
    public async Task With_the_plan_store_down_past_its_give_up_time_in_the_fall_back_the_trainer_fails_the_schedule_with_the_store_error_and_its_thread_ends()
    {
        // Cluster-wide plans write every resolution to the store: down past streamdetect.store.retry.give-up-after, the
        // trainer's resolve fails (it falls back to "unchanged"), and so does the fall-back's. Nothing may escape the
        // trainer's thread (an unhandled exception there ends the process outside the documented exit codes): the
        // schedule is failed with the store's error, for the scoring loop to stop the run with it (exit code 3).
        var schedule = new ScriptedSchedule((long)OnlineTraffic.Settings.Cadence.TotalMilliseconds);
        var down = new EnvironmentFailureException(FailedResource.Store,
            "SQLite store /tmp/x/streamdetect.db: model plans: write a boundary's plan failed for 30 s (12 attempts; streamdetect.store.retry.give-up-after): disk I/O error");
        schedule.RefuseResolve = down;
        var log = new StringWriter();
        using var trainer = traffic.Trainer(schedule, log: TextWriter.Synchronized(log));
        long start = new DateTimeOffset(OnlineTraffic.LiveStart).ToUnixTimeMilliseconds();
        schedule.Starts(start);
        schedule.Reached(start);

        trainer.Start();
        await Probe.UntilAsync(() => Task.FromResult(schedule.Failure is not null), TimeSpan.FromSeconds(30), () => log.ToString());
        await trainer.StopAsync().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Same(down, schedule.Failure);
        Assert.Same(down, trainer.Failure);
        Assert.Same(down, trainer.FallBackFailure);
        Assert.Empty(schedule.Resolved);
        string said = log.ToString();
        Assert.Contains("online learning: the trainer failed (EnvironmentFailureException: ", said);
        Assert.Contains("the run stops with this error there", said);
        Assert.All(said.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("online learning: ", line));
    }
}
