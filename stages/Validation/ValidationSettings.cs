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
        };
        if (settings.MaxTimeMs <= settings.MinTimeMs)
            throw new SettingsException(r.Key("max-time"), "must be later than min-time");
        if (settings.MaxAmount < settings.MinAmount)
            throw new SettingsException(r.Key("max-amount"), "must not be below min-amount");
        return settings;
    }
}
