using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Validation;

/// <summary>
/// What counts as a sane event (HOCON block <c>streamdetect.validation</c>). Records outside these
/// bounds go to the dead letters with a reason; nothing here ever stops the stream.
/// </summary>
public sealed record ValidationSettings
{
    /// <summary>Records longer than this (bytes) are rejected unread as "oversize".</summary>
    public int MaxRecordBytes { get; init; } = 64 * 1024;

    /// <summary>Longest accepted string field (userId, type, item, ...), in characters.</summary>
    public int MaxFieldChars { get; init; } = 256;

    /// <summary>Earliest accepted event time, Unix epoch ms.</summary>
    public long MinTimeMs { get; init; } = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>Latest accepted event time, Unix epoch ms.</summary>
    public long MaxTimeMs { get; init; } = new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>Smallest accepted amount.</summary>
    public double MinAmount { get; init; } = 0;

    /// <summary>Largest accepted amount.</summary>
    public double MaxAmount { get; init; } = 10_000_000;

    /// <summary>
    /// <c>streamdetect.entities.key = session</c>: an event's entity (its routing and partition key, the subject of its
    /// alerts) is its <c>session</c> field instead of its userId, and an event without one is a dead letter.
    /// </summary>
    public bool KeyBySession { get; init; }

    public static ValidationSettings Default { get; } = new();

    public static ValidationSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.validation");
        var settings = new ValidationSettings
        {
            MaxRecordBytes = (int)r.Bytes("max-record-bytes", min: 64, max: 16 * 1024 * 1024),
            MaxFieldChars = r.Int("max-field-chars", min: 8, max: 65536),
            MinTimeMs = r.TimeMs("min-time"),
            MaxTimeMs = r.TimeMs("max-time"),
            MinAmount = r.Double("min-amount"),
            MaxAmount = r.Double("max-amount"),
            KeyBySession = config.HasPath("streamdetect.entities.key")
                && new SettingsReader(config, "streamdetect.entities").OneOf("key", "user", "session") == "session",
        };
        if (settings.MaxTimeMs <= settings.MinTimeMs)
            throw new SettingsException(r.Key("max-time"), "must be later than min-time");
        if (settings.MaxAmount < settings.MinAmount)
            throw new SettingsException(r.Key("max-amount"), "must not be below min-amount");
        return settings;
    }
}
