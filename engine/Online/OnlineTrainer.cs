using System.Collections.Concurrent;
using System.Diagnostics;
using StreamDetect.Engine.Registry;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Online;
using StreamDetect.Models.Replay;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Online;

/// <summary>
/// The trainer side of online learning in the live path (issue 11). It sees every decided request
/// (<see cref="IScoringObserver"/>, enqueue only) and, on its OWN thread (own detector copies, own optimizer, a fixed torch
/// thread count), resolves every boundary of the <see cref="IModelSchedule"/> once every event before it is decided:
/// <list type="number">
/// <item>the requests with order keys before the boundary, sorted by (order key, user), are tallied (users decided and
/// alerted, by the champion and the shadow) and, for the <see cref="OnlineTrainerSettings.SampleShare"/> a hash of
/// (user, key) keeps, offered to the <see cref="SampleGuard"/> as <see cref="OnlineSample"/>s (the window, device, ip,
/// champion score, alerted, cooldown; the base version's score computed here); feedback labels purge (positive) or
/// become false-alarm samples (0 on an alert);</item>
/// <item>the plan is decided: a candidate trained at the previous boundary goes to shadow when the offline gates
/// (<see cref="PromotionGates"/>) passed, else it is rejected; a shadow that has scored for
/// <see cref="OnlineTrainerSettings.ShadowWindow"/> is promoted when its alert rate is inside the band, else rejected;
/// a champion promoted less than <see cref="OnlineTrainerSettings.RollbackWindow"/> ago whose alert rate left the band
/// is rolled back; otherwise the plan is unchanged. Every transition goes to the registry with its reason and figures;</item>
/// <item>when no candidate is in play, a round fine-tunes the champion on the buffer (samples with keys before the
/// boundary); its candidate is decided at the NEXT boundary (the stream runs on meanwhile and waits there only while
/// training is slower than the stream).</item>
/// </list>
/// So the plan at every boundary is a function of the input and the configuration alone: the same alerts on every run.
/// The "every event before it" test is the caller's (<c>allObservedBefore</c>): it must hold only once every request with
/// keys before the boundary has been passed to <see cref="Decided"/>. The live path gives it as
/// <c>ledger.AllSettledThrough(boundary - 1)</c>, not <c>AllDecidedBefore(boundary)</c>: the decision stage counts an
/// event decided before it calls the observer, and settles it only after.
/// Feedback labels arrive in wall time: with a live feedback input, which boundary a label is applied at depends on timing.
/// </summary>
public sealed class OnlineTrainer : IScoringObserver, IDisposable
{
    private readonly IModelSchedule _schedule;
    private readonly Func<long, bool> _allObservedBefore;
    private readonly OnlineLearningOptions _options;
    private readonly OnlineTrainerSettings _settings;
    private readonly TrainingOptions _training;
    private readonly AnchorReservoir _anchors;
    private readonly BehaviorDataset _canaries;
    private readonly IReadOnlyList<string>? _canaryScenarios;
    private readonly SessionSettings _sessions;
    private readonly int _windowCapacity;
    private readonly long _cooldownMs;
    private readonly ModelRegistry? _registry;
    private readonly TextWriter _log;
    private readonly long _cadenceMs;

    private readonly ConcurrentQueue<Observation> _inbox = new();
    private readonly ConcurrentQueue<FeedbackLabel> _feedback = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly List<Observation> _waiting = [];
    private readonly Dictionary<string, Observation> _alertWindows = new(StringComparer.Ordinal);
    private readonly HashSet<string> _positiveUsers = new(StringComparer.Ordinal);
    private readonly NewTypePopulation? _population;
    private readonly Dictionary<string, (long TimeMs, bool Explained)> _lastAlerts = new(StringComparer.Ordinal);
    private readonly SampleGuard _guard;
    private readonly AlertRateTally _tally;
    private readonly List<VersionTransition> _transitions = [];
    private readonly List<TrainingRound> _rounds = [];
    private readonly List<IAnomalyDetector> _owned = [];
    private readonly Dictionary<string, IAnomalyDetector> _inPlan = new(StringComparer.Ordinal);
    private readonly object _report = new();

    private readonly IAnomalyDetector _base;
    private IAnomalyDetector? _baseCopy;
    private IAnomalyDetector _champion;
    private IAnomalyDetector? _shadow;
    private long _shadowFrom;
    private Candidate? _candidate;
    private Watch? _watch;
    private long? _lastResolved;
    private Thread? _thread;
    private volatile bool _stopping;
    private Exception? _failure;
    private Exception? _fallBackFailure;

    public OnlineTrainer(IModelSchedule schedule, Func<long, bool> allObservedBefore, IAnomalyDetector champion, AnchorReservoir anchors,
        BehaviorDataset canaries, OnlineLearningOptions options, OnlineTrainerSettings settings, TrainingOptions training,
        SessionSettings sessions, int windowCapacity, TimeSpan cooldown, ModelRegistry? registry, TextWriter log, IReadOnlyList<string>? canaryScenarios = null)
    {
        if (canaryScenarios is not null && canaryScenarios.Count != canaries.Users.Count)
            throw new ArgumentException($"{canaryScenarios.Count} canary scenarios for {canaries.Users.Count} canary users", nameof(canaryScenarios));
        options.Validate();
        _schedule = schedule;
        _allObservedBefore = allObservedBefore;
        _base = champion;
        _champion = champion;
        _anchors = anchors;
        _canaries = canaries;
        _canaryScenarios = canaryScenarios;
        _options = options;
        _settings = settings;
        _training = training;
        _sessions = sessions;
        _windowCapacity = windowCapacity;
        _cooldownMs = (long)cooldown.TotalMilliseconds;
        _registry = registry;
        _log = log;
        _cadenceMs = (long)settings.Cadence.TotalMilliseconds;
        if (schedule.BoundaryMs != _cadenceMs)
            throw new ArgumentException($"the schedule's grid ({schedule.BoundaryMs} ms) is not streamdetect.online-learning.cadence ({_cadenceMs} ms)", nameof(schedule));
        _guard = new SampleGuard(options);
        _tally = new AlertRateTally(_cadenceMs);
        if (options.Guards && options.NewTypeRule && NewTypePopulation.VocabularyOf(champion) is { } vocabulary)
            _population = new NewTypePopulation(vocabulary, options);
    }

    /// <summary>The new types a population showed so far (the guard's new-type rule), by name.</summary>
    public IReadOnlyList<string> PopulousNewTypes
    {
        get
        {
            lock (_report) return _population?.Populous ?? [];
        }
    }

    /// <summary>The detector whose verdicts decide from the last resolved boundary on.</summary>
    public IAnomalyDetector Champion => _champion;

    /// <summary>Every version transition so far, in boundary order.</summary>
    public IReadOnlyList<VersionTransition> Transitions
    {
        get
        {
            lock (_report) return [.. _transitions];
        }
    }

    /// <summary>Every fine-tuning round so far.</summary>
    public IReadOnlyList<TrainingRound> Rounds
    {
        get
        {
            lock (_report) return [.. _rounds];
        }
    }

    /// <summary>The guard's decision counts, by name.</summary>
    public IReadOnlyDictionary<string, long> GuardCounts
    {
        get
        {
            lock (_report) return _guard.Counts;
        }
    }

    /// <summary>The users the sample buffer holds samples of now.</summary>
    public IReadOnlySet<string> BufferedUsers
    {
        get
        {
            lock (_report) return _guard.Buffer.Samples.Select(s => s.UserId).ToHashSet(StringComparer.Ordinal);
        }
    }

    /// <summary>Boundaries resolved so far.</summary>
    public int BoundariesResolved { get; private set; }

    /// <summary>What stopped the trainer's loop, if anything (boundaries are then resolved unchanged so the stream never stalls).</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>What stopped even the unchanged resolutions after <see cref="Failure"/> (the schedule was failed with it), or null.</summary>
    public Exception? FallBackFailure => Volatile.Read(ref _fallBackFailure);

    /// <summary>
    /// Every new event of the request is an observation of its own (its order key, its window, its score, its alert,
    /// its cooldown), so what the trainer keeps does not depend on how a user's events were split into requests (which
    /// depends on timing): the hash priority is of (user, the event's key).
    /// </summary>
    public void Decided(DecidedRequest decided, ShadowVerdicts? shadow)
    {
        var request = decided.Request;
        long lastAlert = request.Alert.LastAlertMs;
        for (int i = 0; i < request.NewEvents && i < request.OrderKeys.Length; i++)
        {
            long key = request.OrderKeys[i];
            long number = request.EventIndexOf(i);
            int at = request.FirstNewIndex + i;
            long time = request.Window[at].TimestampMs;
            var alertIds = decided.Alerts.Where(a => a.EventIndex == number).Select(a => a.AlertId).ToArray();
            bool? shadowAlerted = shadow is null ? null : shadow.Alerts.Any(a => a.EventIndex == number);
            bool sampled = SamplePriority.Kept(request.UserId, key, _settings.SampleShare);
            bool cooldown = lastAlert != long.MinValue && time - lastAlert < _cooldownMs;
            EventWindow? window = null;
            // Alerted events are kept too: a false-alarm label may name their alert later.
            if (sampled || alertIds.Length > 0)
            {
                int from = Math.Max(0, at + 1 - _windowCapacity);
                window = new EventWindow(request.Window[from..(at + 1)], decided.Output.ScoreAt(i), request.Devices?[i], request.Ips?[i], time, cooldown, alertIds);
            }
            _inbox.Enqueue(new Observation(key, request.UserId, number, alertIds.Length > 0, shadowAlerted, window, sampled,
                request.Window[at].Type, request.Devices?[i], request.Ips?[i]));
            if (alertIds.Length > 0) lastAlert = time;
        }
        _wake.Set();
    }

    /// <summary>An analyst's verdict (from the run's feedback inputs): 1 purges the user's samples; 0 on an alert is learned as a false alarm.</summary>
    public void Feedback(FeedbackLabel label)
    {
        _feedback.Enqueue(label);
        _wake.Set();
    }

    /// <summary>
    /// Cluster-wide plans (engine/Plans/SharedPlanResolver): from <paramref name="boundary"/> on, <paramref name="champion"/>
    /// (an instance of the trainer's own) decides with no shadow, not the plan this trainer decided (a registry change from
    /// outside, or a boundary another node decided first). A shadow in play is rejected, a candidate dropped. Call it on the
    /// trainer's thread (its schedule's Resolve).
    /// </summary>
    public void Adopt(IAnomalyDetector champion, long boundary, string reason)
    {
        if (_shadow is { } shadow) Record(boundary, shadow.Version, _champion.Version, "rejected", reason, [], r => r.Reject(shadow.Version, reason));
        (_candidate, _shadow, _watch) = (null, null, null);
        if (champion.Version == _base.Version) champion.Dispose();
        else _owned.Add(champion);
        _champion = champion.Version == _base.Version ? _base : champion;
        lock (_report) _transitions.Add(new VersionTransition(boundary, _champion.Version, null, "champion", reason, []));
    }

    /// <summary>Starts the trainer's thread.</summary>
    public void Start()
    {
        if (_thread is not null) throw new InvalidOperationException("the online trainer runs already");
        _thread = new Thread(Loop) { IsBackground = true, Name = "online-trainer" };
        _thread.Start();
    }

    /// <summary>
    /// Stops the loop once the stream has ended (or failed): the boundaries it can still resolve are resolved, then it
    /// ends; returns when its thread has ended.
    /// </summary>
    public Task StopAsync() => Task.Run(() =>
    {
        _stopping = true;
        _wake.Set();
        _thread?.Join();
    });

    /// <summary>Resolves the pending boundary when every event before it is decided; returns whether it did (tests drive it).</summary>
    public bool TryResolve()
    {
        if (_schedule.PendingBoundary is not long boundary || !_allObservedBefore(boundary)) return false;
        Resolve(boundary);
        return true;
    }

    private void Loop()
    {
        try
        {
            if (_settings.TorchThreads > 0) TorchSharp.torch.set_num_threads(_settings.TorchThreads);
            Learn();
        }
        catch (Exception e)
        {
            Volatile.Write(ref _failure, e);
            _log.WriteLine($"online learning: the trainer failed ({e.GetType().Name}: {Persistence.StoreRetry.OneLine(e)}); it learns no more, and every later boundary keeps the plan in force");
            FallBack();
        }
    }

    /// <summary>
    /// Resolves every boundary once every event before it is decided, until stopped with none it can resolve. Stopped
    /// means the stream is over: a boundary still pending then never gets the rest of its events decided (the stream
    /// failed before them), and waiting for it kept the run's disposal, and the process, waiting for ever.
    /// </summary>
    private void Learn()
    {
        while (true)
        {
            if (TryResolve()) continue;
            if (_stopping) return;
            _wake.WaitOne(5);
        }
    }

    /// <summary>
    /// After a failure: every boundary is resolved with the plan in force, so the stream never waits for a dead trainer.
    /// When that fails too (cluster-wide plans: the store the plans are written to is down past its give-up time), the
    /// schedule is failed (<see cref="IModelSchedule.Fail"/>): the run stops with that error in one line and its
    /// documented exit code (3 for the store), never with an exception escaping this thread.
    /// </summary>
    private void FallBack()
    {
        try
        {
            var plan = Plan("unchanged (the online trainer failed)") with { Shadow = null };
            while (true)
            {
                if (_schedule.PendingBoundary is long boundary && _allObservedBefore(boundary)) _schedule.Resolve(boundary, plan);
                else if (_stopping) return; // as in Learn: a boundary still pending once stopped is never resolvable
                else _wake.WaitOne(5);
            }
        }
        catch (Exception e)
        {
            Volatile.Write(ref _fallBackFailure, e);
            _log.WriteLine($"online learning: the trainer cannot resolve boundary {(_schedule.PendingBoundary is long pending ? Time(pending) : "-")} either " +
                           $"({e.GetType().Name}: {Persistence.StoreRetry.OneLine(e)}); the run stops with this error there");
            try
            {
                _schedule.Fail(e);
            }
            catch (Exception notified)
            {
                // The thread must end quietly whatever the schedule's listeners do; the stream then waits at the boundary.
                _log.WriteLine($"online learning: the scoring loop was not told ({notified.GetType().Name}: {Persistence.StoreRetry.OneLine(notified)})");
            }
        }
    }

    private void Resolve(long boundary)
    {
        var before = Take(boundary);
        foreach (var o in before) _tally.Add(o.Key, o.UserId, o.Alerted, o.ShadowAlerted);
        ObservePopulation(before, boundary);
        ApplyFeedback(boundary);
        Offer(before);
        lock (_report) _guard.Advance(boundary);

        var plan = Decide(boundary);
        _schedule.Resolve(boundary, plan);
        _lastResolved = boundary;
        BoundariesResolved++;
        _tally.ForgetBefore(boundary - 2 * Math.Max(_settings.ShadowWindow.Ticks, _settings.RollbackWindow.Ticks) / TimeSpan.TicksPerMillisecond - _cadenceMs);
        if (plan.Reason != Unchanged) _log.WriteLine($"online learning: boundary {Time(boundary)}: {plan.Reason}");

        // A champion promoted out of the band (a release moved normal behaviour) is fine-tuned on during its watch, so
        // the rate can step down round by round; after an in-band promotion rounds wait for the watch to end.
        if (_candidate is null && _shadow is null && (_watch is null || _watch.ReplacedRate is not null)) TrainRound(boundary);
    }

    private const string Unchanged = "unchanged";

    /// <summary>The observations with keys before the boundary, in (key, user) order; later ones wait.</summary>
    private List<Observation> Take(long boundary)
    {
        while (_inbox.TryDequeue(out var o)) _waiting.Add(o);
        var before = _waiting.Where(o => o.Key < boundary).ToList();
        _waiting.RemoveAll(o => o.Key < boundary);
        before.Sort((a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key)
            : string.CompareOrdinal(a.UserId, b.UserId) is var byUser and not 0 ? byUser : a.Number.CompareTo(b.Number));
        return before;
    }

    private void ApplyFeedback(long boundary)
    {
        var labels = new List<FeedbackLabel>();
        while (_feedback.TryDequeue(out var label)) labels.Add(label);
        foreach (var label in labels)
        {
            if (label.Label == 1)
            {
                _positiveUsers.Add(label.UserId);
                int removed;
                lock (_report) removed = _guard.Purge(label.UserId);
                if (removed > 0) _log.WriteLine($"online learning: feedback marked user {label.UserId} anomalous; {removed} of its samples purged");
            }
            else if (label.AlertId is { } alertId && _alertWindows.TryGetValue(alertId, out var alerted) && alerted.Window is { } window)
            {
                var sample = SampleOf(alerted.UserId, window, baseScore: 0) with { ChampionScore = 0, Source = OnlineSampleSource.FalseAlarmLabel };
                lock (_report) _guard.Offer(sample);
            }
        }
    }

    /// <summary>The period's events shown to the new-type population; the types it made populous are logged.</summary>
    private void ObservePopulation(List<Observation> before, long boundary)
    {
        if (_population is null) return;
        IReadOnlyList<string> populous;
        lock (_report)
        {
            foreach (var o in before) _population.Observe(o.Type, o.UserId, o.Device, o.Ip);
            populous = _population.ClosePeriod();
        }
        if (populous.Count > 0)
            _log.WriteLine($"online learning: boundary {Time(boundary)}: new event types shown by a population: {string.Join(", ", populous)} (the guard's new-type rule applies to them)");
        long forget = boundary - _cooldownMs - _cadenceMs;
        foreach (var user in _lastAlerts.Where(p => p.Value.TimeMs < forget).Select(p => p.Key).ToList()) _lastAlerts.Remove(user);
    }

    /// <summary>
    /// For the guard's new-type rule: the windows (alerted, or sampled without positive feedback) that hold new types, all
    /// populous, scored without those types' events under the champion and the base; by index in <paramref name="observations"/>.
    /// </summary>
    private Dictionary<int, (double Champion, double Base)> JudgeWithoutNewTypes(List<Observation> observations)
    {
        var judged = new Dictionary<int, (double, double)>();
        if (_population is null) return judged;
        var indices = new List<int>();
        var sequences = new List<UserSequence>();
        for (int i = 0; i < observations.Count; i++)
        {
            var o = observations[i];
            if (o.Window is not { } window || !(o.Alerted || (o.Sampled && !_positiveUsers.Contains(o.UserId)))) continue;
            if (!window.Entries.Any(e => _population.IsNew(e.Type))) continue;
            var without = _population.Without(WindowSequence.Of(o.UserId, window.Entries, _sessions, _windowCapacity));
            if (without is null) continue;
            indices.Add(i);
            sequences.Add(without);
        }
        if (sequences.Count == 0) return judged;
        _baseCopy ??= Copy(_base);
        // The trainer's own champion instance (the scorer has copies); the base version through the trainer's copy.
        var champion = ReferenceEquals(_champion, _base) ? _baseCopy : _champion;
        var championScores = NewTypePopulation.LastScores(champion, sequences, _windowCapacity, _training.ScoringBatchSize);
        var baseScores = ReferenceEquals(champion, _baseCopy) ? championScores
            : NewTypePopulation.LastScores(_baseCopy, sequences, _windowCapacity, _training.ScoringBatchSize);
        for (int j = 0; j < indices.Count; j++) judged[indices[j]] = (championScores[j], baseScores[j]);
        return judged;
    }

    private void Offer(List<Observation> observations)
    {
        var offered = new List<OnlineSample>();
        var needBase = new List<int>();
        var judged = JudgeWithoutNewTypes(observations);
        double ceiling = _options.ScoreCeiling;
        for (int index = 0; index < observations.Count; index++)
        {
            var o = observations[index];
            if (o.Window is not { } window) continue;
            foreach (string alertId in window.AlertIds) _alertWindows[alertId] = o;
            bool isJudged = judged.TryGetValue(index, out var without);
            // An alert the new types alone raised: judged without them, its event is below the quantile under the champion.
            if (window.AlertIds.Length > 0)
            {
                bool byNewTypes = isJudged && without.Champion < ceiling;
                _lastAlerts[o.UserId] = (window.TimeMs, byNewTypes);
                // Any other alert quarantines its user in the guard (sampled or not): what led up to it is not learned.
                if (!byNewTypes)
                    lock (_report) _guard.AlertRaised(o.UserId, window.TimeMs);
            }
            if (!o.Sampled) continue;
            var sample = SampleOf(o.UserId, window, double.NaN);
            if (isJudged)
            {
                bool explained = (!sample.Alerted || without.Champion < ceiling)
                                 && (!sample.InCooldown || (_lastAlerts.TryGetValue(o.UserId, out var last) && last.Explained));
                sample = sample with { WithoutNewTypes = new WithoutNewTypes(without.Champion, without.Base, explained) };
            }
            // The base score is computed only where the guard's earlier rules let the sample reach it.
            if (!sample.Alerted && !sample.InCooldown && !sample.FeedbackPositive && window.Score < _options.ScoreCeiling) needBase.Add(offered.Count);
            offered.Add(sample);
        }
        if (needBase.Count > 0 && _options.Guards && ReferenceEquals(_champion, _base))
        {
            // The champion is the base version: the score it gave the sample live is the base version's score. Scoring the
            // window again (a replay of up to the window's events, for a quarter of all events at the default sample-share)
            // made the trainer cost 6x the stream's CPU per event, and the stream waits for it at every boundary.
            for (int j = 0; j < needBase.Count; j++) offered[needBase[j]] = offered[needBase[j]] with { BaseScore = offered[needBase[j]].ChampionScore };
        }
        else if (needBase.Count > 0 && _options.Guards)
        {
            var scores = BaseScores(needBase.Select(i => offered[i]).ToList(), needBase.Select(i => offered[i].EventTimeMs).ToList());
            for (int j = 0; j < needBase.Count; j++) offered[needBase[j]] = offered[needBase[j]] with { BaseScore = scores[j] };
        }
        lock (_report)
            foreach (var sample in offered) _guard.Offer(sample);
    }

    private OnlineSample SampleOf(string userId, EventWindow window, double baseScore) =>
        new(WindowSequence.Of(userId, window.Entries, _sessions, _windowCapacity), window.Device, window.Ip, window.TimeMs, window.Score, baseScore,
            Alerted: window.AlertIds.Length > 0, InCooldown: window.InCooldown, FeedbackPositive: _positiveUsers.Contains(userId));

    /// <summary>The base version's highest calibrated score over each sample's newest events, on the trainer's own copy.</summary>
    private double[] BaseScores(List<OnlineSample> samples, List<long> firstNewMs)
    {
        _baseCopy ??= Copy(_base);
        var data = new BehaviorDataset(samples.Select(s => s.Events).ToArray(), _windowCapacity);
        var maxima = new double[samples.Count];
        Array.Fill(maxima, double.NegativeInfinity);
        StreamingReplay.Run(data, _baseCopy, new ReplayOptions(_training.ScoringBatchSize), score =>
        {
            // The window's older events only rebuild the state; the sample is judged on what the champion judged.
            if (score.TimestampMs < firstNewMs[score.UserIndex]) return;
            maxima[score.UserIndex] = Math.Max(maxima[score.UserIndex], score.Output.ScoreAt(score.Output.Count - 1));
        });
        return maxima;
    }

    private IAnomalyDetector Copy(IAnomalyDetector detector, bool owned = true)
    {
        string file = Path.Combine(Path.GetTempPath(), $"streamdetect-online-{Environment.ProcessId}-{Guid.NewGuid():N}.sdm");
        try
        {
            detector.Save(file);
            var copy = Pipeline.ModelProvider.Load(file, detector.Device.ToString());
            if (owned) _owned.Add(copy);
            return copy;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private ModelPlan Decide(long boundary)
    {
        // The watch first: a rollback must not wait behind a candidate or a shadow (rounds go on during the watch of a
        // champion promoted out of the band).
        string? kept = null;
        if (_watch is { } watch && WatchVerdict(boundary, watch) is (bool rollback, string reason))
        {
            if (rollback) return RollBack(boundary, watch, reason);
            kept = reason;
            _watch = null;
        }
        var plan = DecideVersions(boundary);
        return kept is null ? plan : plan.Reason == Unchanged ? Plan(kept) : plan with { Reason = $"{kept}; {plan.Reason}" };
    }

    /// <summary>The candidate's and the shadow's fate at this boundary, when one is in play.</summary>
    private ModelPlan DecideVersions(long boundary)
    {
        if (_candidate is { } candidate)
        {
            _candidate = null;
            if (candidate.GatesPassed)
            {
                _shadow = candidate.Detector;
                _shadowFrom = boundary;
                Record(boundary, candidate.Detector.Version, candidate.Parent, "shadow", $"passed the offline gates ({GateText(candidate.Gates)})", candidate.Gates,
                    r => r.MarkShadow(candidate.Detector.Version, "passed the offline gates"));
                return Plan($"shadow {Name(_shadow)} from here (round {candidate.Round})");
            }
            string why = $"failed the offline gates ({GateText(candidate.Gates)})";
            Record(boundary, candidate.Detector.Version, candidate.Parent, "rejected", why, candidate.Gates, r => r.Reject(candidate.Detector.Version, why));
            candidate.Detector.Dispose();
            _owned.Remove(candidate.Detector);
            return Plan($"candidate {candidate.Detector.Version} (round {candidate.Round}) rejected: {why}");
        }
        if (_shadow is { } shadow && boundary - _shadowFrom >= (long)_settings.ShadowWindow.TotalMilliseconds)
        {
            var (users, alerted) = _tally.Shadow(_shadowFrom, boundary);
            if (users < _settings.MinWindowUsers) return Plan($"shadow {Name(shadow)} continues: {users} users scored, {_settings.MinWindowUsers} wanted");
            var gate = BandGate("shadow-alert-rate", users, alerted);
            string figures = $"alert rate {alerted}/{users} = {gate.Value:P2}, band {_settings.BandLow * _options.AlertBudget:P2}..{gate.Bound:P2}";
            _shadow = null;
            if (gate.Passed) return Promote(boundary, shadow, $"shadow {figures}", [gate], replacedRate: null);
            if (OutOfBandComparison(boundary, gate) is (GateResult compared, double championRate))
                return Promote(boundary, shadow, $"champion out of band: {championRate:P2} vs shadow {gate.Value:P2} on the same {users} users ({figures})",
                    [gate, compared], championRate);
            // The champion on the same users, for the record (what the out-of-band rule compared it with).
            var (sameUsers, championAlerted) = _tally.ChampionOnShadowUsers(_shadowFrom, boundary);
            figures += $"; the champion {(sameUsers == 0 ? 0 : championAlerted / (double)sameUsers):P2} on the same users";
            Record(boundary, shadow.Version, _champion.Version, "rejected", $"shadow {figures} (outside the band)", [gate], r =>
            {
                r.AddGates(shadow.Version, [Recorded(gate)]);
                r.Reject(shadow.Version, $"shadow {figures} (outside the band)");
            });
            return Plan($"shadow {Name(shadow)} rejected: {figures} (outside the band)");
        }
        return Plan(Unchanged);
    }

    /// <summary>
    /// For a shadow outside the band: the comparison with the champion on the same users in the same window, when the
    /// champion alerts above the band too and the shadow at most <see cref="OnlineTrainerSettings.ChampionOutOfBandRatio"/>
    /// of its rate (and not below the band); null otherwise (the shadow is rejected).
    /// </summary>
    private (GateResult Gate, double ChampionRate)? OutOfBandComparison(long boundary, GateResult shadowGate)
    {
        if (_settings.ChampionOutOfBandRatio <= 0) return null;
        var (users, alerted) = _tally.ChampionOnShadowUsers(_shadowFrom, boundary);
        if (users == 0) return null;
        double championRate = alerted / (double)users;
        double bound = championRate * _settings.ChampionOutOfBandRatio;
        bool passed = championRate > _settings.BandHigh * _options.AlertBudget && shadowGate.Value >= _settings.BandLow * _options.AlertBudget
                      && shadowGate.Value <= bound;
        return passed ? (new GateResult(ShadowVersusChampionGate, shadowGate.Value, bound, true), championRate) : null;
    }

    /// <summary>The gate that promoted a shadow over an out-of-band champion: the shadow's rate vs the ratio of the champion's.</summary>
    public const string ShadowVersusChampionGate = "shadow-vs-out-of-band-champion";

    private ModelPlan Promote(long boundary, IAnomalyDetector shadow, string reason, IReadOnlyList<GateResult> gates, double? replacedRate)
    {
        var previous = _champion;
        Record(boundary, shadow.Version, previous.Version, "champion", reason, gates, r =>
        {
            r.AddGates(shadow.Version, gates.Select(Recorded).ToList());
            r.Promote(shadow.Version, reason);
        });
        Record(boundary, previous.Version, null, "retired", $"replaced by {shadow.Version}", [], null);
        _champion = shadow;
        _watch = new Watch(previous, boundary, replacedRate);
        return Plan($"promoted {Name(shadow)}: {reason}");
    }

    /// <summary>
    /// The watched champion's verdict at this boundary: (true, figures) to roll back, (false, figures) once kept after its
    /// rollback window, null while it goes on (or too few users). Promoted inside the band, it must stay inside; promoted
    /// over an out-of-band champion, it must stay below the rate of the champion it replaced (or inside the band).
    /// </summary>
    private (bool RollBack, string Reason)? WatchVerdict(long boundary, Watch watch)
    {
        var (users, alerted) = _tally.Champion(watch.At, boundary);
        if (users < _settings.MinWindowUsers) return null;
        var gate = BandGate("champion-alert-rate", users, alerted);
        string figures = $"alert rate {alerted}/{users} = {gate.Value:P2} since its promotion, band {_settings.BandLow * _options.AlertBudget:P2}..{gate.Bound:P2}";
        if (watch.ReplacedRate is double replaced)
        {
            gate = new GateResult("champion-alert-rate", gate.Value, replaced, gate.Passed || gate.Value < replaced);
            figures += $", the champion it replaced {replaced:P2}";
        }
        if (!gate.Passed) return (true, figures);
        return boundary - watch.At >= (long)_settings.RollbackWindow.TotalMilliseconds ? (false, $"{Name(_champion)} kept after its rollback window: {figures}") : null;
    }

    private ModelPlan RollBack(long boundary, Watch watch, string figures)
    {
        var rolledBack = _champion;
        var (users, alerted) = _tally.Champion(watch.At, boundary);
        double rate = users == 0 ? 0 : alerted / (double)users;
        var gate = new GateResult("champion-alert-rate", rate, watch.ReplacedRate ?? _settings.BandHigh * _options.AlertBudget, false);
        string why = watch.ReplacedRate is null ? "outside the band" : "outside the band and not below the champion it replaced";
        Record(boundary, rolledBack.Version, watch.Previous.Version, "rejected", $"rolled back: {figures}", [gate], r =>
        {
            r.AddGates(rolledBack.Version, [Recorded(gate)]);
            r.Rollback($"{figures} ({why})");
        });
        Record(boundary, watch.Previous.Version, null, "champion", $"restored: {rolledBack.Version} rolled back", [], null);
        _champion = watch.Previous;
        _watch = null;
        // A candidate or shadow fine-tuned from the rolled-back version goes with it.
        foreach (var child in new[] { _candidate?.Detector, _shadow }.OfType<IAnomalyDetector>().ToList())
        {
            string orphaned = $"its parent {rolledBack.Version} was rolled back";
            Record(boundary, child.Version, rolledBack.Version, "rejected", orphaned, [], r => r.Reject(child.Version, orphaned));
            if (!ReferenceEquals(child, _shadow)) { child.Dispose(); _owned.Remove(child); }
        }
        _candidate = null;
        _shadow = null;
        return Plan($"rolled back {Name(rolledBack)} to {Name(_champion)}: {figures} ({why})");
    }

    /// <summary>
    /// The plan of the current champion and shadow, with instances of the schedule's own: a resolved plan's detectors are
    /// the scorer's from then on (the schedule disposes them once retired), so the trainer hands over copies and keeps its
    /// instances for training and gates. A version already in the plan in force keeps its instance; the base version is
    /// the run's own (the schedule's initial plan, never disposed by it).
    /// </summary>
    private ModelPlan Plan(string reason)
    {
        var champion = Scheduled(_champion);
        var shadow = _shadow is null ? null : Scheduled(_shadow);
        foreach (string version in _inPlan.Keys.ToList())
            if (version != champion.Version && version != shadow?.Version) _inPlan.Remove(version);
        return new ModelPlan(champion, shadow, reason);
    }

    private IAnomalyDetector Scheduled(IAnomalyDetector detector)
    {
        if (ReferenceEquals(detector, _base)) return _base;
        if (_inPlan.TryGetValue(detector.Version, out var scheduled)) return scheduled;
        scheduled = Copy(detector, owned: false);
        _inPlan[detector.Version] = scheduled;
        return scheduled;
    }

    private GateResult BandGate(string name, int users, int alerted)
    {
        double rate = users == 0 ? 0 : alerted / (double)users;
        double low = _settings.BandLow * _options.AlertBudget, high = _settings.BandHigh * _options.AlertBudget;
        return new GateResult(name, rate, high, rate >= low && rate <= high);
    }

    /// <summary>
    /// One fine-tuning round on the samples before <paramref name="boundary"/>; its candidate is decided at the next
    /// boundary. With too few users in the buffer no round starts, and a round that cannot fine-tune (too few users to
    /// hold back, no optimizer step) makes no candidate: each says so in one line with the buffer's and the guard's
    /// figures. The candidate's registration is outside the round's own failures: a store error is the trainer's.
    /// </summary>
    private void TrainRound(long boundary)
    {
        if (_settings.MaxRounds > 0 && _rounds.Count >= _settings.MaxRounds) return;
        IReadOnlyList<OnlineSample> samples;
        lock (_report) samples = _guard.Buffer.Samples;
        int users = samples.Select(s => s.UserId).Distinct(StringComparer.Ordinal).Count();
        if (users < _settings.MinSampleUsers)
        {
            _log.WriteLine($"online learning: boundary {Time(boundary)}: no round: {BufferText(samples.Count, users)}, " +
                           $"streamdetect.online-learning.min-sample-users = {_settings.MinSampleUsers}; {GuardText()}");
            return;
        }
        int round = _rounds.Count + 1;
        var clock = Stopwatch.StartNew();
        var options = _options with { Seed = _options.Seed + round };
        FineTuneResult result;
        try
        {
            result = new SequenceFineTuner(options, _training).FineTune(_champion, _base, samples, _anchors);
        }
        catch (ArgumentException e)
        {
            // Too few users left to hold back, another architecture: the round makes nothing, the plan stays.
            NoCandidate(round, boundary, samples.Count, users, 0, clock.Elapsed.TotalSeconds, e.Message);
            return;
        }
        double trainingSeconds = clock.Elapsed.TotalSeconds;
        if (result.Steps == 0)
        {
            result.Candidate.Dispose();
            NoCandidate(round, boundary, samples.Count, users, 0, trainingSeconds,
                $"0 optimizer steps: no batch of the {result.TrainingSamples} training samples and {result.AnchorUsers} anchor users held an event to predict");
            return;
        }
        clock.Restart();
        IReadOnlyList<GateResult> gates;
        try
        {
            gates = new PromotionGates(options, _training.ScoringBatchSize).Evaluate(_champion, result.Candidate, result.HeldBack, _anchors.ToDataset(), _canaries, _canaryScenarios);
        }
        catch (ArgumentException e)
        {
            result.Candidate.Dispose();
            NoCandidate(round, boundary, samples.Count, users, result.Steps, trainingSeconds, $"the gates could not be evaluated: {e.Message}");
            return;
        }
        bool passed = PromotionGates.AllPassed(gates);
        double gateSeconds = clock.Elapsed.TotalSeconds;
        _owned.Add(result.Candidate);
        _candidate = new Candidate(result.Candidate, _champion.Version, gates, passed, round);
        var detail = new OriginDetail(result.TrainingSamples, DateTimeOffset.FromUnixTimeMilliseconds(result.FirstEventTimeMs),
            DateTimeOffset.FromUnixTimeMilliseconds(boundary), result.Steps, $"online round {round}: samples with order keys before {Time(boundary)}; {result.DetailJson()}");
        Record(boundary, result.Candidate.Version, _champion.Version, "candidate", $"fine-tuned in round {round}", gates, r =>
            r.Register(result.Candidate, new VersionRegistration(ModelOrigin.FineTuned, detail, _champion.Version,
                gates.Select(Recorded).ToList(), $"online round {round}")));
        lock (_report)
            _rounds.Add(new TrainingRound(round, boundary, result.Candidate.Version, result.TrainingSamples, users, result.Steps,
                trainingSeconds, gateSeconds, passed, null));
        _log.WriteLine($"online learning: round {round} fine-tuned {result.Candidate.Version} from {_champion.Version} on {result.TrainingSamples} samples " +
                       $"({users} users; {result.Steps} steps on {result.TrainedEvents} events, loss {result.FirstLoss:G4} -> {result.LastLoss:G4}, " +
                       $"distance {result.Distance:G3}) in {trainingSeconds:F1} s; gates {(passed ? "passed" : "failed")} ({GateText(gates)}) in {gateSeconds:F1} s");
    }

    /// <summary>A round that made no candidate: recorded with its reason and said in one line (the plan stays).</summary>
    private void NoCandidate(int round, long boundary, int samples, int users, int steps, double seconds, string reason)
    {
        _candidate = null;
        lock (_report) _rounds.Add(new TrainingRound(round, boundary, null, samples, users, steps, seconds, 0, false, reason));
        _log.WriteLine($"online learning: round {round} at {Time(boundary)}: no candidate: {reason} ({BufferText(samples, users)}; {GuardText()})");
    }

    private static string BufferText(int samples, int users) => $"the sample buffer holds {samples} samples of {users} users";

    /// <summary>The guard's decisions so far that are not zero, e.g. "guard so far: Admitted 120, HeldBack 30, Alerted 4".</summary>
    private string GuardText()
    {
        IReadOnlyDictionary<string, long> counts;
        lock (_report) counts = _guard.Counts;
        var made = counts.Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value}").ToList();
        return made.Count == 0 ? "guard so far: no sample offered" : $"guard so far: {string.Join(", ", made)}";
    }

    private void Record(long boundary, string version, string? parent, string status, string reason, IReadOnlyList<GateResult> gates, Action<ModelRegistry>? write)
    {
        if (_registry is not null && write is not null) write(_registry);
        lock (_report) _transitions.Add(new VersionTransition(boundary, version, parent, status, reason, gates));
    }

    private static RecordedGate Recorded(GateResult g) => new(g.Gate, g.Value, g.Bound, g.Passed);

    private static string GateText(IReadOnlyList<GateResult> gates) =>
        string.Join(", ", gates.Select(g => $"{g.Gate} {Figure(g.Value)} vs {Figure(g.Bound)} {(g.Passed ? "ok" : "FAILED")}{(g.Note is null ? "" : $" ({g.Note})")}"));

    /// <summary>A gate figure in a log line; NaN is a gate that could not be measured (canary recall without canaries).</summary>
    private static string Figure(double value) => double.IsNaN(value) ? "not measured" : value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);

    private static string Name(IAnomalyDetector detector) => $"{detector.Name}@{detector.Version}";

    private static string Time(long key) => DateTime.UnixEpoch.AddMilliseconds(key).ToString("yyyy-MM-dd HH:mm'Z'");

    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _thread?.Join();
        foreach (var detector in _owned) detector.Dispose();
        _owned.Clear();
        _wake.Dispose();
    }

    /// <summary>One decided event: its key, user, event number, whether the champion and the shadow alerted on it, and (sampled or alerted) its window.</summary>
    private sealed record Observation(long Key, string UserId, long Number, bool Alerted, bool? ShadowAlerted, EventWindow? Window, bool Sampled,
        string Type, string? Device, string? Ip);

    /// <summary>What a sample needs of one decided event: the user's last window entries up to it, its calibrated champion score, device, ip, time, cooldown and alerts.</summary>
    private sealed record EventWindow(Models.Features.WindowEntry[] Entries, double Score, string? Device, string? Ip, long TimeMs, bool InCooldown, string[] AlertIds);

    /// <summary>A promoted champion under watch: the version it replaced, the boundary it took over at and, when it was
    /// promoted over an out-of-band champion, that champion's alert rate on the same users (its rollback bound).</summary>
    private sealed record Watch(IAnomalyDetector Previous, long At, double? ReplacedRate);

    private sealed record Candidate(IAnomalyDetector Detector, string Parent, IReadOnlyList<GateResult> Gates, bool GatesPassed, int Round);
}
