using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// What an <see cref="AnomalyEpisode"/> works with: the user (identity, tempo, plan, own random stream),
/// the shop, and a clock it advances as it records events. Every recorded event is labelled <see cref="Label"/> (1) and carries
/// the current device, address and session, which the episode sets as its story needs.
/// </summary>
internal sealed class EpisodeContext
{
    private readonly Func<string> _newSessionId;

    public EpisodeContext(
        GenerationContext generation, UserPlan plan, string userId, Xoshiro256StarStar rng, UserIdentity identity,
        double tempo, long startMs, Func<string> newSessionId, ShopperSession session, HashSet<int>? purchasedBefore)
    {
        Generation = generation;
        Plan = plan;
        UserId = userId;
        Rng = rng;
        Identity = identity;
        Tempo = tempo;
        Now = startMs;
        _newSessionId = newSessionId;
        Session = session;
        PurchasedBefore = purchasedBefore ?? [];
        (Device, Ip) = identity.ForSession(rng);
        SessionId = newSessionId();
    }

    public GenerationContext Generation { get; }
    public ProductCatalog Catalog => Generation.Catalog;
    public ShopperSessionModel Model => Generation.Model;
    public UserPlan Plan { get; }
    public string UserId { get; }
    public Xoshiro256StarStar Rng { get; }
    public UserIdentity Identity { get; }

    /// <summary>The user's pace (1 = median); normal-looking episodes scale their gaps by it.</summary>
    public double Tempo { get; }

    /// <summary>A session walker the episode may use (the user is not in a normal session meanwhile).</summary>
    public ShopperSession Session { get; }

    /// <summary>Items the user bought in their normal history (tracked only for scenarios that need it).</summary>
    public HashSet<int> PurchasedBefore { get; }

    /// <summary>Time of the last recorded event (epoch ms).</summary>
    public long Now { get; private set; }

    public string Device { get; set; }
    public string Ip { get; set; }
    public string SessionId { get; set; }

    public List<UserEvent> Events { get; } = [];

    /// <summary>The label of the events recorded (1; 0 for a slow poisoner's approach sessions).</summary>
    public int Label { get; init; } = 1;

    /// <summary>A slow poisoner's own other device and address, made familiar session by session; an episode that
    /// brings a new device uses it instead of drawing one. Null for everyone else.</summary>
    public (string Device, string Ip)? Intruder { get; init; }

    /// <summary>The chain an episode walks for the user's ordinary-looking sessions (the drift's release model for a
    /// released user's sessions after the release).</summary>
    public ShopperSessionModel? WalkModel { get; init; }

    /// <summary>Starts a new session id for the events that follow.</summary>
    public void NewSession() => SessionId = _newSessionId();

    /// <summary>Advances the clock without an event.</summary>
    public void Wait(long ms) => Now += Math.Max(0, ms);

    /// <summary>Records an event <paramref name="gapMs"/> after the previous one.</summary>
    public void Add(string type, long gapMs, int item = -1, double amount = double.NaN, string? query = null)
    {
        Now += Math.Max(0, gapMs);
        Events.Add(new UserEvent(UserId, Now, type)
        {
            Item = item >= 0 ? Catalog.ItemName(item) : null,
            Category = item >= 0 ? Catalog.CategoryName(Catalog.CategoryOf(item)) : null,
            Amount = double.IsNaN(amount) ? null : Math.Round(amount, 2),
            Query = query,
            Ip = Ip,
            Device = Device,
            Session = SessionId,
            Label = Label,
        });
    }

    public void Add(in SessionStep step) => Add(step.Type, step.GapMs, step.Item, step.Amount, step.Query);

    /// <summary>A gap in ms, log-normal around <paramref name="medianSeconds"/>.</summary>
    public long Gap(double medianSeconds, double sigma = 0.5) => (long)Rng.LogNormal(medianSeconds * 1000.0, sigma);

    /// <summary>A gap drawn like a normal shopper's before an event in <paramref name="state"/>.</summary>
    public long NormalGap(ShopperState state) => Model.SampleGapMs(state, Tempo, Rng);
}
