using Akka.Configuration;
using StreamDetect.Models.Sessions;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Configuration;

/// <summary>
/// The session rule's settings from HOCON <c>streamdetect.sessions</c> (gap, end-types, split-on-session-field);
/// a bad value is refused with a <see cref="SettingsException"/> naming its key.
/// </summary>
public static class SessionSettingsReader
{
    private const string Block = "streamdetect.sessions";

    public static SessionSettings Read(Config config)
    {
        var r = new SettingsReader(config, Block);
        TimeSpan gap = r.Duration("gap");
        if (gap.TotalMilliseconds < 1)
            throw new SettingsException(r.Key("gap"), $"{gap} is shorter than 1 ms");
        if (r.Has("end-types") && r.Config.GetValue("end-types").IsString())
            throw new SettingsException(r.Key("end-types"), $"'{r.Config.GetString("end-types")}' is not a list of event types, e.g. [logout]");
        var endTypes = r.StringList("end-types");
        foreach (string type in endTypes)
        {
            if (string.IsNullOrWhiteSpace(type)) throw new SettingsException(r.Key("end-types"), "holds an empty event type");
        }
        var settings = new SessionSettings((long)gap.TotalMilliseconds, endTypes.Distinct(StringComparer.Ordinal).ToArray(),
            r.Bool("split-on-session-field"));
        settings.Validate();
        return settings;
    }
}
