using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Sources;

/// <summary>HOCON block <c>streamdetect.file-source</c>.</summary>
public sealed record FileSourceSettings
{
    /// <summary>Read buffer in bytes (raised to the record limit when that is larger).</summary>
    public int BufferSize { get; init; } = 1 << 20;

    public static FileSourceSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.file-source");
        return new FileSourceSettings { BufferSize = (int)r.Bytes("buffer-size", min: 4096, max: 256L * 1024 * 1024) };
    }
}
