using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Thresholds;

/// <summary>HOCON block <c>streamdetect.thresholds</c>: when a score becomes an alert.</summary>
public sealed record ThresholdSettings
{
    /// <summary>
    /// online: start from the model's fitted threshold and, after <see cref="WarmupUserDays"/>, move it by the
    /// drift of the live user-day maximum scores measured at <see cref="ReferenceRate"/>; model: the model's
    /// fitted threshold only; fixed: <see cref="Fixed"/>.
    /// </summary>
    public string Mode { get; init; } = "online";

    /// <summary>Wanted share of normal users alerted over <see cref="PeriodDays"/>.</summary>
    public double AlertRate { get; init; } = 0.005;

    /// <summary>The period the alert rate refers to, in days.</summary>
    public double PeriodDays { get; init; } = 7;

    /// <summary>User-days observed (per segment) before the online quantile replaces the model's threshold.</summary>
    public int WarmupUserDays { get; init; } = 2000;

    /// <summary>
    /// The share of user-days at which online mode compares live scores with the model's calibration. Far
    /// more common than anomalies (a few percent of users), so they cannot drag the threshold up with them.
    /// </summary>
    public double ReferenceRate { get; init; } = 0.2;

    /// <summary>
    /// Online thresholds are recomputed at every multiple of this interval of the order key (event time as the
    /// source progresses), from the user-days closed at least <see cref="Delay"/> before: the thresholds in force
    /// at any point of the input are then a function of the input, not of timing.
    /// </summary>
    public TimeSpan UpdateInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long (in order-key time) a closed user-day waits before it may move the thresholds. Decisions at
    /// a new interval wait until every event that long before it has been decided; a day of event time means they
    /// practically never wait.</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Half-life of the online quantile, in user-days: older days weigh less.</summary>
    public double HalfLifeUserDays { get; init; } = 50_000;

    /// <summary>Fixed thresholds per segment (mode = fixed), on the calibrated scale.</summary>
    public IReadOnlyDictionary<string, double> Fixed { get; init; } = new Dictionary<string, double> { ["new"] = 4.0, ["established"] = 4.0 };

    /// <summary>A user is "new" until this many events...</summary>
    public int NewUserEvents { get; init; } = 20;

    /// <summary>...and this long after the first one (event time).</summary>
    public TimeSpan NewUserAge { get; init; } = TimeSpan.FromDays(1);

    /// <summary>How far one feedback label moves a segment's threshold (calibrated units): up for a false alarm, down for a missed anomaly.</summary>
    public double FeedbackStep { get; init; } = 0.05;

    /// <summary>Feedback can move a threshold at most this far from where calibration puts it.</summary>
    public double FeedbackMaxShift { get; init; } = 2.0;

    /// <summary>A JSON Lines file of feedback labels followed while a run goes on (<see cref="Feedback.FeedbackFile"/>); empty = none.</summary>
    public string FeedbackFile { get; init; } = "";

    /// <summary>How often the feedback file is checked for new lines.</summary>
    public TimeSpan FeedbackPollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    public static ThresholdSettings Default { get; } = new();

    private static TimeSpan WholeSeconds(SettingsReader r, string key, bool allowZero = false)
    {
        var value = r.Duration(key, allowZero);
        if (value.Ticks % TimeSpan.TicksPerSecond != 0)
            throw new SettingsException(r.Key(key), $"must be a whole number of seconds (got {value})");
        return value;
    }

    public static ThresholdSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.thresholds");
        return new ThresholdSettings
        {
            Mode = r.OneOf("mode", "online", "model", "fixed"),
            AlertRate = r.Double("alert-rate", 1e-6, 0.5),
            PeriodDays = r.Double("period-days", 0.01, 3650),
            WarmupUserDays = r.Int("warmup-user-days", 0, int.MaxValue),
            ReferenceRate = r.Double("reference-rate", 0.001, 0.5),
            HalfLifeUserDays = r.Double("half-life-user-days", 0, 1e12),
            UpdateInterval = WholeSeconds(r, "update-interval"),
            Delay = WholeSeconds(r, "delay", allowZero: true),
            Fixed = new Dictionary<string, double>
            {
                ["new"] = r.Double("fixed.new", 0, 100),
                ["established"] = r.Double("fixed.established", 0, 100),
            },
            NewUserEvents = r.Int("segments.new-user-events", 0, int.MaxValue),
            NewUserAge = r.Duration("segments.new-user-age", allowZero: true),
            FeedbackStep = r.Double("feedback.step", 0, 10),
            FeedbackMaxShift = r.Double("feedback.max-shift", 0, 100),
            FeedbackFile = r.String("feedback.file", allowEmpty: true),
            FeedbackPollInterval = r.Duration("feedback.poll-interval"),
        };
    }
}
