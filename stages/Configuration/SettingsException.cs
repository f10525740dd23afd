namespace StreamDetect.Stages.Configuration;

/// <summary>A configuration value is missing or invalid; the message names the HOCON key.</summary>
public sealed class SettingsException : Exception
{
    public SettingsException(string key, string problem)
        : base($"setting '{key}': {problem}")
    {
        Key = key;
    }

    /// <param name="key">Full HOCON path of the setting.</param>
    /// <param name="source">Where it was set: an overlay file, or $STREAMDETECT_HOCON.</param>
    /// <param name="problem">What is wrong with it.</param>
    public SettingsException(string key, string source, string problem)
        : base($"setting '{key}' in {source}: {problem}")
    {
        Key = key;
    }

    /// <summary>Full HOCON path of the offending key, e.g. "streamdetect.validation.max-record-bytes".</summary>
    public string Key { get; }
}
