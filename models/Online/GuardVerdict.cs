namespace StreamDetect.Models.Online;

/// <summary>What the guard did with an offered sample: admitted, held back, or refused for one named reason.</summary>
public enum GuardVerdict
{
    /// <summary>In the buffer: it may be learned.</summary>
    Admitted,

    /// <summary>Passed the rules but younger than the hold-back delay: waits (late feedback can still purge it).</summary>
    HeldBack,

    /// <summary>Refused: its score under the champion is not below the score quantile.</summary>
    AboveChampionQuantile,

    /// <summary>Refused: its score under the base version is not below the score quantile.</summary>
    AboveBaseQuantile,

    /// <summary>Refused: it raised an alert.</summary>
    Alerted,

    /// <summary>Refused: its user was in an alert cooldown.</summary>
    InCooldown,

    /// <summary>Refused: feedback labelled it (or its user) anomalous.</summary>
    FeedbackPositive,

    /// <summary>Refused: its user already has the most samples a user may have in the buffer.</summary>
    UserCap,

    /// <summary>Refused: its device already has the most samples a device may have.</summary>
    DeviceCap,

    /// <summary>Refused: its IP already has the most samples an IP may have.</summary>
    IpCap,

    /// <summary>Not kept: the buffer is full and reservoir sampling kept the samples already there.</summary>
    NotSampled,

    /// <summary>Not kept: the false-alarm labels' reservoir is full and kept the labels already there.</summary>
    FalseAlarmCap,

    /// <summary>Removed after it was held or admitted: late feedback on its user, or an alert on its user (the samples that
    /// led up to it, <see cref="OnlineLearningOptions.AlertQuarantine"/>).</summary>
    Purged,

    /// <summary>Refused by the score, alert or cooldown rules but passed by the new-type rule (its only surprise is
    /// populous new types): waits for the hold-back delay like <see cref="HeldBack"/>.</summary>
    HeldBackNewTypes,

    /// <summary>Refused: its user raised an alert (one the new-type rule does not explain) less than
    /// <see cref="OnlineLearningOptions.AlertQuarantine"/> before it, or later in the same period (the lead-up to it).</summary>
    Quarantined,
}
