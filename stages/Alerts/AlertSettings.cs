using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Alerts;

/// <summary>HOCON block <c>streamdetect.alerts</c>.</summary>
public sealed record AlertSettings
{
    /// <summary>auto: the --alerts file when given, else stdout; otherwise the name of an alert output the engine knows (file, stdout, kafka, none), checked by the engine.</summary>
    public string Sink { get; init; } = "auto";

    /// <summary>After an alert, the same user is not alerted again for this long (event time).</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromHours(6);

    /// <summary>Least expected events listed in an alert.</summary>
    public int MaxUnexpectedEvents { get; init; } = 5;

    /// <summary>Feature deviations listed in an alert.</summary>
    public int MaxFeatures { get; init; } = 5;

    /// <summary>
    /// On a run over kept state: alerts read back per Kafka partition of the alert topic (the whole file
    /// for a file output), whose ids are not written again. 0: nothing is read back.
    /// </summary>
    public int ReadBack { get; init; } = 10_000;

    public static AlertSettings Default { get; } = new();

    public static AlertSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.alerts");
        return new AlertSettings
        {
            Sink = r.String("sink"),
            Cooldown = r.Duration("cooldown", allowZero: true),
            MaxUnexpectedEvents = r.Int("max-unexpected-events", 0, 100),
            MaxFeatures = r.Int("max-features", 0, 200),
            ReadBack = r.Int("read-back", 0, 10_000_000),
        };
    }
}
