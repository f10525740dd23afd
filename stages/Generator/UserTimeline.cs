using System.Globalization;
using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// One user's events, produced lazily in time order: normal sessions at the times of a diurnal Poisson
/// process (the user's own sessions-per-day rate), and for an anomalous user the episode, due at its
/// planned time (after the session in progress, if any), recorded in one go and then replayed. An anomalous
/// user's first session is placed before the episode so every episode has normal history before it.
/// </summary>
/// <remarks>
/// Holds O(1) state outside an episode, so the merge of all users stays O(users) in memory. The pending
/// event is kept as a <see cref="SessionStep"/> and becomes a <see cref="UserEvent"/> only when emitted, and
/// session walkers come from a pool shared by the users of one enumeration: the many idle users then hold
/// no young objects (cheap GCs) and the few active ones share a small, cache-hot set of walkers.
/// </remarks>
internal sealed class UserTimeline
{
    private const long MinSessionGapMs = 60_000;
    private const long ResumeAfterEpisodeMs = 30 * 60_000;

    private enum Phase { Idle, InSession, InEpisode, Done }

    private readonly GenerationContext _context;
    private readonly int _index;
    private readonly string _userId;
    private readonly UserPlan? _plan;
    private readonly AnomalyEpisode? _episode;
    private readonly Xoshiro256StarStar _rng;
    private readonly UserIdentity _identity;
    private readonly double _sessionsPerDay;
    private readonly double _tempo;
    private readonly Stack<ShopperSession> _walkers;
    private ShopperSession? _session;
    private readonly HashSet<int>? _purchased;
    private Phase _phase = Phase.Idle;
    private long _now;
    private long _nextSessionAt;
    private int _sessionNumber;
    private string? _sessionId;
    private string _device = "";
    private string _ip = "";
    private bool _episodeDue;
    private List<UserEvent>? _episodeEvents;
    private int _episodeCursor;
    private SessionStep _pending;
    private UserEvent? _pendingEpisodeEvent;
    private readonly bool _released;
    private readonly SlowPoisoningEpisode? _poisoning;
    private readonly (string Device, string Ip)? _intruder;
    private bool _inApproach;

    /// <param name="walkers">Pool of session walkers shared by the timelines of one enumeration.</param>
    public UserTimeline(GenerationContext context, int index, Stack<ShopperSession> walkers)
    {
        _context = context;
        _index = index;
        _userId = context.Plan.UserIds[index];
        _plan = context.Plan.For(index);
        _rng = Xoshiro256StarStar.ForStream(context.Settings.Seed, StreamIds.User(index));
        _identity = new UserIdentity(_rng);
        var settings = context.Settings;
        // Heavy-tailed activity: most users shop now and then, a few many times a day.
        _sessionsPerDay = Math.Min(settings.MaxSessionsPerDay, _rng.LogNormal(settings.SessionsPerDayMedian, settings.SessionsPerDaySigma));
        _tempo = _rng.LogNormal(1.0, 0.25);
        _walkers = walkers;
        _now = context.StartMs;
        _released = context.Plan.IsReleased(index);
        if (_plan is { PoisoningFromMs: not null })
        {
            // A slow poisoner: an active account from the start (every session a step), with another device and
            // address of its own that the approach makes familiar and the strike uses.
            _episode = _poisoning = (SlowPoisoningEpisode)AnomalyEpisode.For(_plan.Scenario);
            _episodeDue = true;
            _sessionsPerDay = settings.Poisoning.SessionsPerDay;
            _intruder = (NetworkIdentities.NewDevice(NetworkIdentities.RandomPlatform(_rng), _rng),
                _rng.Chance(0.5) ? NetworkIdentities.DatacenterIp(_rng) : NetworkIdentities.ResidentialIp(_rng));
            _nextSessionAt = NextSessionAfter(context.StartMs);
        }
        else if (_plan is not null)
        {
            _episode = AnomalyEpisode.For(_plan.Scenario);
            _episodeDue = true;
            if (_episode.NeedsPurchaseHistory) _purchased = [];
            long latestFirst = Math.Max(context.StartMs, _plan.EpisodeAtMs - 3_600_000);
            _nextSessionAt = context.StartMs + (long)((latestFirst - context.StartMs) * _rng.NextDouble());
        }
        else
        {
            _nextSessionAt = NextSessionAfter(context.StartMs);
        }
    }

    public int Index => _index;

    /// <summary>Time of the event found by the last successful <see cref="MoveNext"/> (epoch ms).</summary>
    public long PendingTimestampMs => _now;

    /// <summary>The event found by the last successful <see cref="MoveNext"/>, as a new <see cref="UserEvent"/>.</summary>
    public UserEvent Emit() => _pendingEpisodeEvent ?? NormalEvent(_pending);

    /// <summary>Finds the user's next event; false when the user has no more events in the period.</summary>
    public bool MoveNext()
    {
        while (true)
        {
            switch (_phase)
            {
                case Phase.InSession:
                    if (_session!.TryNext(out _pending))
                    {
                        long ts = _now + _pending.GapMs;
                        if (ts >= _context.EndMs) return Finish();
                        _now = ts;
                        if (_purchased is not null && _pending.Type == EventTypes.Purchase) _purchased.Add(_pending.Item);
                        return true;
                    }
                    ReturnWalker();
                    _nextSessionAt = NextSessionAfter(_now + MinSessionGapMs);
                    _phase = Phase.Idle;
                    break;

                case Phase.Idle:
                    if (_episodeDue && _nextSessionAt >= _plan!.EpisodeAtMs)
                    {
                        StartEpisode(Math.Max(_plan.EpisodeAtMs, _now + MinSessionGapMs));
                        break;
                    }
                    if (_nextSessionAt >= _context.EndMs) return Finish();
                    BeginSession(_nextSessionAt);
                    break;

                case Phase.InEpisode:
                    if (_episodeCursor < _episodeEvents!.Count)
                    {
                        UserEvent e = _episodeEvents[_episodeCursor++];
                        if (e.TimestampMs >= _context.EndMs) return Finish();
                        _now = e.TimestampMs;
                        _pendingEpisodeEvent = e;
                        return true;
                    }
                    _episodeEvents = null;
                    _pendingEpisodeEvent = null;
                    if (_inApproach)
                    {
                        _inApproach = false;
                        _nextSessionAt = NextSessionAfter(_now + MinSessionGapMs);
                        _phase = Phase.Idle;
                        break;
                    }
                    if (!_episode!.ResumesNormalActivity) return Finish();
                    _nextSessionAt = NextSessionAfter(_now + ResumeAfterEpisodeMs);
                    _phase = Phase.Idle;
                    break;

                default:
                    return false;
            }
        }
    }

    private bool Finish()
    {
        _phase = Phase.Done;
        _episodeEvents = null;
        _pendingEpisodeEvent = null;
        ReturnWalker();
        return false;
    }

    private ShopperSession RentWalker() =>
        _walkers.TryPop(out ShopperSession? walker) ? walker : new ShopperSession(_context.Catalog, _context.Model);

    private void ReturnWalker()
    {
        if (_session is null) return;
        _walkers.Push(_session);
        _session = null;
    }

    private long NextSessionAfter(long fromMs) =>
        _context.Diurnal.NextStart(fromMs, _context.EndMs, _sessionsPerDay, _rng);

    private void BeginSession(long atMs)
    {
        if (_poisoning is not null && _episodeDue)
        {
            StartApproach(atMs);
            return;
        }
        _now = atMs;
        _sessionNumber++;
        _sessionId = null; // made when the session's first event is emitted, not while it waits in the queue
        (_device, _ip) = _identity.ForSession(_rng);
        _session = RentWalker();
        bool released = IsReleasedAt(atMs);
        _session.Begin(_rng, released ? _tempo * _context.Settings.Drift.Pace : _tempo, browseOnly: _episode?.BrowseOnlyHistory == true,
            model: released ? ShopperSessionModel.AfterRelease : null);
        _phase = Phase.InSession;
    }

    /// <summary>Whether a session starting at <paramref name="atMs"/> follows the drift scenario's release.</summary>
    private bool IsReleasedAt(long atMs) => _released && atMs >= _context.Plan.ReleaseAtMs;

    /// <summary>A slow poisoner's session before its strike: recorded in one go (labelled normal), then replayed.</summary>
    private void StartApproach(long atMs)
    {
        ShopperSession walker = RentWalker();
        bool released = IsReleasedAt(atMs);
        double progress = (atMs - _plan!.PoisoningFromMs!.Value) / (double)Math.Max(1, _plan.EpisodeAtMs - _plan.PoisoningFromMs.Value);
        var approach = new EpisodeContext(_context, _plan, _userId, _rng, _identity,
            released ? _tempo * _context.Settings.Drift.Pace : _tempo, atMs, NewSessionId, walker, null)
        {
            Label = 0,
            Intruder = _intruder,
            WalkModel = released ? ShopperSessionModel.AfterRelease : null,
        };
        _poisoning!.RecordApproach(approach, progress);
        _walkers.Push(walker);
        _now = atMs;
        _episodeEvents = approach.Events;
        _episodeCursor = 0;
        _inApproach = true;
        _phase = Phase.InEpisode;
    }

    private void StartEpisode(long atMs)
    {
        _episodeDue = false;
        ShopperSession walker = RentWalker();
        var episode = new EpisodeContext(_context, _plan!, _userId, _rng, _identity, _tempo, atMs, NewSessionId, walker, _purchased)
        {
            Intruder = _intruder,
        };
        _episode!.Record(episode);
        _walkers.Push(walker);
        _episodeEvents = episode.Events;
        _episodeCursor = 0;
        _phase = Phase.InEpisode;
    }

    private string NewSessionId() => SessionId(++_sessionNumber);

    private string SessionId(int number) => string.Create(CultureInfo.InvariantCulture, $"s-{_index + 1}-{number}");

    private UserEvent NormalEvent(in SessionStep step)
    {
        int item = step.Item;
        var catalog = _context.Catalog;
        return new UserEvent(_userId, _now, step.Type)
        {
            Item = item >= 0 ? catalog.ItemName(item) : null,
            Category = item >= 0 ? catalog.CategoryName(catalog.CategoryOf(item)) : null,
            Amount = double.IsNaN(step.Amount) ? null : step.Amount,
            Query = step.Query,
            Ip = _ip,
            Device = _device,
            Session = _sessionId ??= SessionId(_sessionNumber),
            Label = 0,
        };
    }
}
