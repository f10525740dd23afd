namespace StreamDetect.Engine.Configuration;

/// <summary>A HOCON overlay file could not be read or parsed; the message names the file.</summary>
public sealed class ConfigFileException(string path, string problem)
    : Exception($"config file '{path}': {problem}")
{
    public string FilePath { get; } = path;
}
