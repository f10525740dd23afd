using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Stages.Tests.Alerts;

/// <summary>Event-by-event decisions: per-user alert state comes with the request, thresholds are fixed per order-key interval.</summary>
public sealed class AlertDeciderTests
{
    private const long Hour = 3_600_000L, Day = 24 * Hour;
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly SourceStream Stream = new("in.jsonl", 0, 1);

    /// <summary>A request for one new event of <paramref name="user"/> at <paramref name="timeMs"/> with order key <paramref name="key"/>.</summary>
    private static ScoringRequest Request(string user, long timeMs, long key, UserAlertState? alert = null, long eventCount = 50) =>
        new(user, 0, [new WindowEntry("view", timeMs - 1000, float.NaN, 0, 0), new WindowEntry("view", timeMs, float.NaN, 0, 0)], 1,
            new float[FeatureSchema.Count], null, eventCount, T0 - 30 * Day, [key], alert ?? UserAlertState.None, RequestTicket.None);

    private static ScoringRequest Admitted(DecisionLedger ledger, string user, long timeMs, UserAlertState? alert = null) =>
        Request(user, timeMs, ledger.Admit(Stream, timeMs), alert);

    private static ScoredBatch Scored(IReadOnlyList<ScoringRequest> requests, Func<ScoringRequest, double> score) =>
        new(requests, requests.Select(r => new ScoringOutput(score(r), null, Explanation.ForEvents("zscore", score(r), []))).ToList(), "zscore@1", TimeSpan.Zero);

    private static AlertDecider Decider(DecisionLedger ledger, ThresholdSettings? thresholds = null, TimeSpan? cooldown = null, ModelThreshold? model = null) =>
        new(AlertSettings.Default with { Cooldown = cooldown ?? TimeSpan.FromHours(6) },
            thresholds ?? ThresholdSettings.Default with { Mode = "fixed" }, _ => model ?? new ModelThreshold(3.0, 1.0), ledger, windowSize: 32);

    private static List<DecidedRequest> Offer(AlertDecider decider, ScoredBatch batch)
    {
        var decided = new List<DecidedRequest>();
        decider.Offer(batch, decided);
        return decided;
    }

    [Fact]
    public void An_event_at_or_above_the_threshold_alerts_with_a_deterministic_id_and_the_users_cooldown_comes_with_the_request()
    {
        var ledger = new DecisionLedger();
        var decider = Decider(ledger);
        var quiet = Admitted(ledger, "u-1", T0 + Hour);
        var loud = Admitted(ledger, "u-2", T0 + Hour);
        var cooling = Admitted(ledger, "u-3", T0 + Hour, UserAlertState.None.WithAlert(T0 + Hour - 60_000, "al-earlier"));

        var decided = Offer(decider, Scored([quiet, loud, cooling], r => r.UserId == "u-1" ? 3.9 : 9.0));

        Assert.Equal(3, decided.Count);
        Assert.Empty(decided[0].Alerts);
        var alert = Assert.Single(decided[1].Alerts);
        Assert.Equal(AlertIds.For("u-2", 50, T0 + Hour, "zscore@1"), alert.AlertId);
        Assert.Equal((T0 + Hour, alert.AlertId), (decided[1].Alert.LastAlertMs, decided[1].Alert.LastAlertId));
        Assert.Empty(decided[2].Alerts); // within 6 h of its earlier alert
        Assert.Equal("al-earlier", decided[2].Alert.LastAlertId);
        Assert.Equal(0, ledger.Undecided);
        Assert.Contains("\"alertId\":\"" + alert.AlertId + "\"", System.Text.Encoding.UTF8.GetString(alert.Json));
        Assert.Equal(new EmittedAlert(alert.AlertId, "u-2", T0 + Hour), EmittedAlert.Parse(alert.Json));
    }

    [Fact]
    public void The_thresholds_in_force_are_listed_per_model_and_segment_once_the_model_decided_events()
    {
        var ledger = new DecisionLedger();
        var settings = ThresholdSettings.Default with { Mode = "fixed" };
        var decider = Decider(ledger, settings);
        Assert.Empty(decider.CurrentThresholds());

        Offer(decider, Scored([Admitted(ledger, "u-1", T0 + Hour)], _ => 1.0));

        Assert.Equal(
            [("zscore@1", UserSegment.New, settings.Fixed[UserSegment.New]), ("zscore@1", UserSegment.Established, settings.Fixed[UserSegment.Established])],
            decider.CurrentThresholds());
    }

    [Fact]
    public void A_request_needing_online_thresholds_not_computable_yet_is_held_until_every_event_they_depend_on_is_decided()
    {
        var ledger = new DecisionLedger();
        var settings = ThresholdSettings.Default with { UpdateInterval = TimeSpan.FromHours(1), Delay = TimeSpan.FromHours(2) };
        var decider = Decider(ledger, settings);
        var early = Admitted(ledger, "u-1", T0 + 30 * 60_000); // interval 0: depends on nothing before T0 - 2 h
        var late = Admitted(ledger, "u-2", T0 + 3 * Hour + 1); // interval 3: on every event before T0 + 1 h

        Assert.Empty(Offer(decider, Scored([late], _ => 1.0))); // early is not decided yet
        Assert.Equal(1, decider.Held);

        var decided = Offer(decider, Scored([early], _ => 1.0));
        Assert.Equal(["u-1", "u-2"], decided.Select(d => d.Request.UserId));
        Assert.Equal(0, decider.Held);
        Assert.Equal(T0 + Hour, ledger.Frontier); // nothing admitted from now on gets a key below the cutoff
    }

    [Fact]
    public void Fixed_and_model_thresholds_never_hold_a_request()
    {
        var ledger = new DecisionLedger();
        var decider = Decider(ledger, ThresholdSettings.Default with { Mode = "model" });
        Admitted(ledger, "u-1", T0); // admitted, never decided
        Assert.Single(Offer(decider, Scored([Admitted(ledger, "u-2", T0 + 10 * Day)], _ => 1.0)));
    }

    /// <summary>
    /// The same events decided in different batches and orders (each user's events in its own order, one at a
    /// time, as the partitions hand them out) give the same alerts and thresholds, online learning included.
    /// </summary>
    [Fact]
    public void The_same_events_give_the_same_decisions_and_thresholds_whatever_the_batching_and_interleaving()
    {
        var random = new Random(5);
        var events = new List<(string User, long Time, double Score)>();
        for (int u = 0; u < 300; u++)
        {
            long t = T0 + random.Next(0, (int)Hour);
            for (int k = 0; k < 20; k++)
            {
                t += random.Next(1, 6 * (int)Hour);
                double score = u % 37 == 0 && k > 10 ? 6 + random.NextDouble() : -Math.Log10(1 - random.NextDouble());
                events.Add(($"u-{u:D3}", t, score));
            }
        }
        events.Sort((a, b) => a.Time.CompareTo(b.Time));
        var index = events.Select((e, i) => (e, i)).ToDictionary(x => (x.e.User, x.e.Time), x => x.i);
        var settings = ThresholdSettings.Default with
        {
            WarmupUserDays = 50, HalfLifeUserDays = 400, UpdateInterval = TimeSpan.FromHours(1), Delay = TimeSpan.FromHours(6),
        };

        (List<string> Alerts, List<double> Thresholds) Run(int seed, int maxBatch)
        {
            var order = new Random(seed);
            var ledger = new DecisionLedger();
            var decider = Decider(ledger, settings, cooldown: TimeSpan.FromHours(2), model: new ModelThreshold(3.0, -Math.Log10(settings.ReferenceRate)));
            // Every event is admitted in source order; the scorer then sees users' events in arbitrary batches.
            var queues = events.Select((e, i) => (e, Key: ledger.Admit(Stream, e.Time), Index: i))
                .GroupBy(x => x.e.User).ToDictionary(g => g.Key, g => new Queue<(long Time, long Key, double Score, int Index)>(g.Select(x => (x.e.Time, x.Key, x.e.Score, x.Index))));
            var states = queues.Keys.ToDictionary(u => u, _ => UserAlertState.None);
            var counts = queues.Keys.ToDictionary(u => u, _ => 0L);
            var alerts = new List<(int Index, string Id, double Threshold)>();
            var inFlight = new HashSet<string>();
            var pending = new List<DecidedRequest>();
            while (queues.Values.Any(q => q.Count > 0) || inFlight.Count > 0)
            {
                // A batch: some users without a request in flight, each with its next event.
                var ready = queues.Where(q => q.Value.Count > 0 && !inFlight.Contains(q.Key)).Select(q => q.Key).OrderBy(_ => order.Next()).Take(order.Next(1, maxBatch + 1)).ToList();
                var requests = new List<ScoringRequest>();
                foreach (string user in ready)
                {
                    var (time, key, _, _) = queues[user].Peek();
                    requests.Add(Request(user, time, key, states[user], ++counts[user]));
                    inFlight.Add(user);
                }
                var byRequest = requests.ToDictionary(r => r, r => queues[r.UserId].Dequeue());
                if (requests.Count > 0) decider.Offer(Scored(requests, r => byRequest[r].Score), pending);
                else decider.Retry(pending);
                // Settle some of what was decided (in any order), as partitions answer.
                foreach (var d in pending.OrderBy(_ => order.Next()).ToList())
                {
                    states[d.Request.UserId] = d.Alert;
                    inFlight.Remove(d.Request.UserId);
                    foreach (var a in d.Alerts) alerts.Add((index[(a.UserId, a.TimeMs)], a.AlertId, 0));
                    pending.Remove(d);
                }
            }
            var thresholds = decider.ThresholdsFor("zscore@1");
            return (alerts.OrderBy(a => a.Index).Select(a => a.Id).ToList(), [thresholds.For(UserSegment.Established), thresholds.For(UserSegment.New), thresholds.DriftOf(UserSegment.New)]);
        }

        var one = Run(seed: 1, maxBatch: 1);
        Assert.NotEmpty(one.Alerts);
        Assert.True(one.Thresholds[2] != 0, "the online thresholds should have moved, or this proves little");
        foreach (var (seed, batch) in new[] { (2, 7), (3, 64), (4, 1024) })
        {
            var other = Run(seed, batch);
            Assert.Equal(one.Alerts, other.Alerts);
            Assert.Equal(one.Thresholds, other.Thresholds);
        }
    }

    [Fact]
    public void Feedback_moves_the_threshold_of_the_segment_the_user_was_last_scored_in_and_is_ignored_for_an_unknown_user()
    {
        var ledger = new DecisionLedger();
        var decider = Decider(ledger, ThresholdSettings.Default with { Mode = "model", FeedbackStep = 0.5 });
        var d = Assert.Single(Offer(decider, Scored([Admitted(ledger, "u-1", T0)], _ => 9.0)));

        Assert.True(decider.Apply(new FeedbackLabel("u-1", 0, null), d.Alert)); // a false alarm
        Assert.Equal(3.5, decider.ThresholdsFor("zscore@1").For(d.Alert.LastSegment!));
        Assert.False(decider.Apply(new FeedbackLabel("u-9", 0, null), null));
        Assert.Equal((1, 1), (decider.FeedbackApplied, decider.FeedbackIgnored));
    }
}
