namespace StreamDetect.Engine.Online;

/// <summary>
/// How the live path's online trainer (<see cref="OnlineTrainer"/>) drives the model plan, from HOCON
/// <c>streamdetect.online-learning</c> (every key commented in hocon/streamdetect.conf): the boundary grid, the shadow
/// window, the alert-rate band, the rollback watch, the share of decided requests sampled and the trainer's torch threads.
/// The fine-tuning rules themselves are <see cref="Models.Online.OnlineLearningOptions"/>.
/// </summary>
public sealed record OnlineTrainerSettings
{
    /// <summary>The boundary grid (event time): the plan may change only at order keys that are multiples of it.</summary>
    public TimeSpan Cadence { get; init; } = TimeSpan.FromHours(6);

    /// <summary>Event time a candidate scores in shadow before it is promoted or rejected.</summary>
    public TimeSpan ShadowWindow { get; init; } = TimeSpan.FromHours(12);

    /// <summary>The band's lower end, a multiple of the alert budget (<c>alert-budget</c>).</summary>
    public double BandLow { get; init; } = 0.0;

    /// <summary>The band's upper end, a multiple of the alert budget.</summary>
    public double BandHigh { get; init; } = 4.0;

    /// <summary>
    /// A shadow outside the band is still promoted when the champion, on the same users in the same window, alerts
    /// above the band too and the shadow's alert rate is at most this share of the champion's (after a change of normal
    /// behaviour no candidate may reach the band in one round, but each can step the rate down). 0: off.
    /// </summary>
    public double ChampionOutOfBandRatio { get; init; } = 0.5;

    /// <summary>Event time after a promotion during which the champion's alert rate is watched; outside the band: rollback.</summary>
    public TimeSpan RollbackWindow { get; init; } = TimeSpan.FromHours(12);

    /// <summary>Fewest users decided in a window before its alert rate decides anything (a shadow waits for more).</summary>
    public int MinWindowUsers { get; init; } = 200;

    /// <summary>Share of decided requests offered as samples, chosen by a hash priority of (user, order key), so every
    /// run keeps the same ones.</summary>
    public double SampleShare { get; init; } = 0.25;

    /// <summary>Fewest users in the sample buffer before a fine-tuning round starts.</summary>
    public int MinSampleUsers { get; init; } = 40;

    /// <summary>torch intra-op threads of the trainer's own thread (a fixed count: the same training on every run).</summary>
    public int TorchThreads { get; init; } = 1;

    /// <summary>Rounds a run may train at most (0: no limit).</summary>
    public int MaxRounds { get; init; }
}
