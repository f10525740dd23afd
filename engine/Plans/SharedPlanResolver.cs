using Akka.Actor;
using StreamDetect.Engine.Registry;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Plans;

/// <summary>
/// Cluster-wide model plans on one node (issue 11): resolves every boundary of this node's <see cref="ModelSchedule"/>
/// with the plan the store holds for it (<see cref="ModelPlanStore"/>), so a plan applies at the same order-key
/// boundary on every node, and a node holds at a boundary until it has that plan.
/// <list type="bullet">
/// <item>On the deciding node (<see cref="PlanDeciderSingleton"/>) a boundary with no stored plan is decided here: by the
/// online trainer when the run learns (the boundary is released to it through this class's <see cref="IModelSchedule"/>;
/// it learns from this node's decided requests only), else "unchanged". Before it is stored, the registry is read: a
/// champion promoted or rolled back outside the decider since the previous boundary (`streamdetect models
/// promote|rollback`) replaces the plan's champion (the trainer is told, <see cref="IPlanTrainer.Adopt"/>). The plan is
/// written (first writer wins), then announced (<see cref="PlanNotices"/>), then resolved here.</item>
/// <item>Every other node follows: woken by the notice, or by its own poll of the store, it loads the plan's versions
/// from the registry and resolves the boundary. After <see cref="SharedPlanSettings.FollowerTimeout"/> without a plan it
/// writes "unchanged" itself (the stored row still applies everywhere, but which row won then depends on timing).</item>
/// </list>
/// The detectors handed to the schedule are its own (it disposes them when retired): a version in the plan in force
/// keeps its instance, any other is loaded from the registry. Thread-safe; its thread stops on <see cref="Dispose"/>
/// (the stream has ended), which also stops the trainer.
/// </summary>
public sealed class SharedPlanResolver : IModelSchedule, IScoringObserver, IDisposable
{
    private const long None = long.MinValue;

    private readonly ModelSchedule _schedule;
    private readonly ModelPlanStore _store;
    private readonly ModelRegistry _registry;
    private readonly PlanDeciderSingleton _decider;
    private readonly PlanNotices _notices;
    private readonly SharedPlanSettings _settings;
    private readonly string _device;
    private readonly TextWriter _log;
    private readonly Func<IModelSchedule, IPlanTrainer?>? _trainerFactory;
    private readonly object _resolving = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _thread;
    private volatile bool _stopping;
    private volatile IPlanTrainer? _trainer;
    private bool _trainerTried;
    private bool _trainerStale;
    private long _released = None;
    private string? _registryChampion;
    private (long Boundary, DateTime Since)? _waiting;
    private Exception? _failure;
    private long _lookedAt = None;
    private long _foundNoPlan = None;
    private DateTime _nextLook;
    private int _heard;

    /// <param name="schedule">This node's schedule (the scoring loop's); its initial plan is the run's model.</param>
    /// <param name="device">Where the versions loaded from the registry score (the run's device).</param>
    /// <param name="trainerFactory">Makes the online trainer on this node once it decides (given this resolver as its schedule); null: the run does not learn.</param>
    public SharedPlanResolver(ModelSchedule schedule, ModelPlanStore store, ModelRegistry registry, ActorSystem system, SharedPlanSettings settings,
        string device, TextWriter log, Func<IModelSchedule, IPlanTrainer?>? trainerFactory = null)
    {
        if (schedule.IsFixed) throw new ArgumentException("cluster-wide plans need a schedule with boundaries (streamdetect.online-learning.cadence)", nameof(schedule));
        _schedule = schedule;
        _store = store;
        _registry = registry;
        _settings = settings;
        _device = device;
        _log = log;
        _trainerFactory = trainerFactory;
        Node = Akka.Cluster.Cluster.Get(system).SelfAddress.ToString();
        _registryChampion = registry.Champion()?.Id;
        _decider = new PlanDeciderSingleton(system, settings.TrainerRole);
        _decider.Changed += Heard;
        _notices = new PlanNotices(system, _ => Heard());
        _schedule.Resolved += Wake;
        _thread = new Thread(Loop) { IsBackground = true, Name = "shared-plans" };
        _thread.Start();
    }

    /// <summary>This node's cluster address (the plans it writes name it).</summary>
    public string Node { get; }

    /// <summary>Whether this node decides the plans now (the singleton runs here).</summary>
    public bool IsDecider => _decider.IsDecider;

    /// <summary>The role the decider is placed by (null: the oldest node).</summary>
    public string? DeciderRole => _decider.Role;

    /// <summary>Completes once this node hears the broadcast (its subscription acknowledged).</summary>
    public Task Listening => _notices.Subscribed;

    /// <summary>The trainer, once this node decides and the run learns.</summary>
    public IPlanTrainer? Trainer => _trainer;

    /// <summary>The last boundary this node read the store for and found no plan (tests: a follower looked before the plan existed).</summary>
    internal long LastFoundNoPlan => Interlocked.Read(ref _foundNoPlan);

    /// <summary>What stopped the resolver's thread, if anything (the stream then fails with it at the next boundary, <see cref="ModelSchedule.Fail"/>).</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public long BoundaryMs => _schedule.BoundaryMs;

    /// <summary>For the trainer: the pending boundary once it is released to it (this node decides and the store has no plan for it).</summary>
    public long? PendingBoundary => _schedule.PendingBoundary is long pending && pending == Interlocked.Read(ref _released) ? pending : null;

    /// <summary>The trainer's plan for a boundary released to it (see the class summary).</summary>
    public void Resolve(long boundaryKey, ModelPlan plan) => Decide(boundaryKey, plan, fromTrainer: true);

    /// <summary>The trainer cannot resolve boundaries any more: nor can this node (see <see cref="ModelSchedule.Fail"/>).</summary>
    public void Fail(Exception failure) => _schedule.Fail(failure);

    public void Decided(DecidedRequest decided, ShadowVerdicts? shadow) => _trainer?.Decided(decided, shadow);

    /// <summary>An analyst's label, for the trainer when this node runs it.</summary>
    public void Feedback(FeedbackLabel label) => _trainer?.Feedback(label);

    /// <summary>A notice, or a change of decider: the store is read at the next look.</summary>
    private void Heard()
    {
        Interlocked.Exchange(ref _heard, 1);
        Wake();
    }

    private void Wake()
    {
        if (_stopping) return;
        try
        {
            _wake.Set();
        }
        catch (ObjectDisposedException)
        {
            // disposed between the test and the call: nothing waits any more
        }
    }

    private void Loop()
    {
        while (!_stopping)
        {
            try
            {
                if (Step()) continue;
            }
            catch (Exception e)
            {
                Volatile.Write(ref _failure, e);
                _log.WriteLine($"shared plans: node {Node} stopped resolving boundaries ({e.GetType().Name}: {e.Message}); its run stops with this error at the next boundary");
                _schedule.Fail(e);
                return;
            }
            _wake.WaitOne(LookInterval);
        }
    }

    /// <summary>How often the thread looks whether the stream reached a new boundary (in memory; the store is read at most every poll, or on a notice).</summary>
    private static readonly TimeSpan LookInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>Whether to read the store for <paramref name="boundary"/> now: the first look at it, a notice heard, or a poll due.</summary>
    private bool StoreLookDue(long boundary)
    {
        var now = DateTime.UtcNow;
        bool due = boundary != _lookedAt || Interlocked.Exchange(ref _heard, 0) == 1 || now >= _nextLook;
        if (!due) return false;
        _lookedAt = boundary;
        _nextLook = now + _settings.Poll;
        return true;
    }

    /// <summary>One look at the pending boundary; true when something moved (look again at once).</summary>
    private bool Step()
    {
        if (_decider.IsDecider && !_trainerTried && _trainerFactory is not null) StartTrainer();
        if (_schedule.PendingBoundary is not long boundary || boundary == Interlocked.Read(ref _released)) return false;
        if (!StoreLookDue(boundary)) return false;
        if (_store.At(boundary) is { } stored)
        {
            lock (_resolving)
            {
                if (_schedule.NextBoundary != boundary) return true;
                var inForce = _schedule.PlanAt(boundary - 1);
                if (_trainer is not null && (stored.Champion != inForce.Champion.Version || stored.Shadow != inForce.Shadow?.Version)) _trainerStale = true;
                Apply(stored);
            }
            return true;
        }
        Interlocked.Exchange(ref _foundNoPlan, boundary);
        if (_decider.IsDecider)
        {
            if (_trainer is not null)
            {
                Interlocked.Exchange(ref _released, boundary);
                return false;
            }
            Decide(boundary, Unchanged(boundary, "unchanged"), fromTrainer: false);
            return true;
        }
        var now = DateTime.UtcNow;
        if (_waiting?.Boundary != boundary) _waiting = (boundary, now);
        if (_settings.FollowerTimeout > TimeSpan.Zero && now - _waiting.Value.Since >= _settings.FollowerTimeout)
        {
            Decide(boundary, Unchanged(boundary, $"unchanged (node {Node} waited {_settings.FollowerTimeout.TotalSeconds:0} s for the decider; streamdetect.online-learning.shared-plans.follower-timeout)"), fromTrainer: false);
            return true;
        }
        return false;
    }

    private void StartTrainer()
    {
        _trainerTried = true;
        var trainer = _trainerFactory!(this);
        if (trainer is null) return;
        lock (_resolving)
        {
            // Plans another node decided before this one took over: the trainer's first decision would not start from the plan in force.
            if (_schedule.NextBoundary is long next && trainer.ChampionVersion != _schedule.PlanAt(next - 1).Champion.Version) _trainerStale = true;
            _trainer = trainer;
        }
        _log.WriteLine($"shared plans: node {Node} decides the plans (cluster singleton{(DeciderRole is { } role ? $", role {role}" : ", the oldest node")}); its online trainer learns from this node's decided requests");
        trainer.Start();
    }

    private ModelPlan Unchanged(long boundary, string reason) => _schedule.PlanAt(boundary - 1) with { Reason = reason };

    private void Decide(long boundary, ModelPlan plan, bool fromTrainer)
    {
        lock (_resolving)
        {
            Interlocked.Exchange(ref _released, None);
            var inForce = _schedule.PlanAt(boundary - 1);
            if (_schedule.NextBoundary != boundary)
            {
                // Resolved from the store meanwhile (another node decided it first): the trainer's plan is dropped.
                if (fromTrainer) Adopt(boundary, _schedule.PlanAt(boundary).Champion.Version, $"boundary {boundary} was decided by another node first");
                return;
            }
            if (fromTrainer && _trainerStale)
            {
                _trainerStale = false;
                plan = inForce with { Reason = "unchanged (the trainer catches up with plans it did not decide)" };
                Adopt(boundary, inForce.Champion.Version, "the plan in force was decided without this trainer");
            }
            plan = FollowRegistry(boundary, plan, fromTrainer);
            var mine = new PlanRecord(boundary, plan.Champion.Version, plan.Shadow?.Version, plan.Reason, Node);
            var stored = _store.Decide(mine);
            if (!stored.SameVersions(mine))
            {
                _log.WriteLine($"shared plans: boundary {Time(boundary)} was decided by {stored.DecidedBy} first ({stored.Reason}); node {Node} follows it");
                Apply(stored);
                if (fromTrainer) Adopt(boundary, stored.Champion, $"boundary {boundary} was decided by {stored.DecidedBy} first");
                return;
            }
            _schedule.Resolve(boundary, plan);
            _notices.Publish(boundary);
            if (!ModelSchedule.SameDetectors(inForce, plan)) _log.WriteLine($"shared plans: boundary {Time(boundary)} decided by node {Node}: {plan.Reason}");
        }
    }

    /// <summary>
    /// The registry's champion, when it changed since the previous boundary and not to the plan's own champion (the
    /// trainer writes its promotions and rollbacks to the registry before it resolves): promoted or rolled back from
    /// outside, it decides from this boundary on, with no shadow.
    /// </summary>
    private ModelPlan FollowRegistry(long boundary, ModelPlan plan, bool fromTrainer)
    {
        string? champion = _registry.Champion()?.Id;
        if (champion is null || champion == _registryChampion) return plan;
        string? before = _registryChampion;
        _registryChampion = champion;
        if (champion == plan.Champion.Version) return plan;
        string reason = $"champion {champion} from the registry (promoted or rolled back outside the decider; it was {before ?? "none"})";
        if (fromTrainer) Adopt(boundary, champion, reason);
        return new ModelPlan(Instance(champion, boundary), null, reason);
    }

    /// <summary>Tells the trainer (on its thread: the caller is its resolve) that <paramref name="version"/> decides from the boundary on.</summary>
    private void Adopt(long boundary, string version, string reason)
    {
        if (_trainer is not { } trainer) return;
        trainer.Adopt(_registry.LoadDetector(version, _device), boundary, reason);
    }

    private void Apply(PlanRecord stored)
    {
        var plan = new ModelPlan(Instance(stored.Champion, stored.Boundary), stored.Shadow is { } shadow ? Instance(shadow, stored.Boundary) : null, stored.Reason);
        var inForce = _schedule.PlanAt(stored.Boundary - 1);
        _schedule.Resolve(stored.Boundary, plan);
        if (!ModelSchedule.SameDetectors(inForce, plan))
            _log.WriteLine($"shared plans: boundary {Time(stored.Boundary)} follows {stored.DecidedBy}: {stored.Reason}");
    }

    /// <summary>The schedule's instance of a version at a boundary: the one the plan in force scores with, else loaded from the registry.</summary>
    private IAnomalyDetector Instance(string version, long boundary)
    {
        var inForce = _schedule.PlanAt(boundary - 1);
        if (inForce.Champion.Version == version) return inForce.Champion;
        if (inForce.Shadow?.Version == version) return inForce.Shadow;
        var initial = _schedule.InitialPlan;
        if (initial.Champion.Version == version) return initial.Champion;
        return _registry.LoadDetector(version, _device);
    }

    private static string Time(long key) => DateTime.UnixEpoch.AddMilliseconds(key).ToString("yyyy-MM-dd HH:mm'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Stops the thread (the stream has ended), then the trainer, the broadcast and the singleton.</summary>
    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _thread.Join();
        try
        {
            _trainer?.Dispose();
        }
        finally
        {
            _schedule.Resolved -= Wake;
            _notices.Dispose();
            _decider.Dispose();
            _wake.Dispose();
        }
    }
}
