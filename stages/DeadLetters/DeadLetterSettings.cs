using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.DeadLetters;

/// <summary>HOCON block <c>streamdetect.dead-letters</c>.</summary>
public sealed record DeadLetterSettings
{
    /// <summary>At most this many bytes of a rejected record are kept in its dead letter.</summary>
    public int MaxRawBytes { get; init; } = 4096;

    public static DeadLetterSettings Default { get; } = new();

    public static DeadLetterSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.dead-letters");
        return new DeadLetterSettings { MaxRawBytes = (int)r.Bytes("max-raw-bytes", min: 16, max: 16 * 1024 * 1024) };
    }
}
