using System.Reflection;
using Akka.Configuration;

namespace StreamDetect.Engine.Configuration;

/// <summary>
/// Loads the engine's HOCON: the embedded defaults (hocon/streamdetect.conf), overlay files
/// (`--config FILE`, later files win), the environment variable STREAMDETECT_HOCON (HOCON text; how
/// containers set per-node values such as the hostname, since Akka's HOCON does not substitute
/// environment variables), and in-code overrides (command-line options) on top.
/// </summary>
public static class EngineConfig
{
    private static readonly Lazy<Config> Defaults = new(LoadDefaults);

    /// <summary>Environment variable holding HOCON text applied over the overlay files.</summary>
    public const string EnvironmentVariable = "STREAMDETECT_HOCON";

    /// <summary>The embedded defaults.</summary>
    public static Config Reference => Defaults.Value;

    /// <summary>
    /// Builds the effective configuration. Throws <see cref="ConfigFileException"/> naming the file when
    /// an overlay cannot be read or parsed, and <see cref="StreamDetect.Stages.Configuration.SettingsException"/>
    /// when an overlay (a file or $STREAMDETECT_HOCON) sets a key under <c>streamdetect</c> that is not a
    /// setting (<see cref="KnownSettings"/>: a typo would otherwise be silently ignored). The in-code
    /// <paramref name="overrides"/> are not checked.
    /// </summary>
    /// <param name="overlayFiles">HOCON files; a later file wins over an earlier one.</param>
    /// <param name="overrides">HOCON text that wins over everything (built from command-line options).</param>
    public static Config Load(IEnumerable<string>? overlayFiles = null, string? overrides = null)
    {
        Config config = Reference;
        foreach (string file in overlayFiles ?? [])
        {
            var overlay = ParseFile(file);
            KnownSettings.Default.Check(overlay, file);
            config = overlay.WithFallback(config);
        }
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            if (HoconSyntaxCheck.FindProblem(fromEnvironment) is { } problem)
                throw new ConfigFileException("$" + EnvironmentVariable, $"not valid HOCON: {problem}");
            var overlay = ConfigurationFactory.ParseString(fromEnvironment);
            KnownSettings.Default.Check(overlay, "$" + EnvironmentVariable);
            config = overlay.WithFallback(config);
        }
        if (!string.IsNullOrWhiteSpace(overrides))
        {
            config = ConfigurationFactory.ParseString(overrides).WithFallback(config);
        }
        return config;
    }

    /// <summary>Parses one HOCON file; <c>include "x.conf"</c> is resolved beside it.</summary>
    public static Config ParseFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigFileException(path, $"cannot read: {e.Message}");
        }
        if (HoconSyntaxCheck.FindProblem(text) is { } problem)
            throw new ConfigFileException(path, $"not valid HOCON: {problem}");
        try
        {
            string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            return ConfigurationFactory.ParseString(text, name => IncludeBeside(directory, name));
        }
        catch (Exception e) when (e is not ConfigFileException and not OutOfMemoryException)
        {
            throw new ConfigFileException(path, $"not valid HOCON: {e.Message}");
        }
    }

    private static Akka.Configuration.Hocon.HoconRoot IncludeBeside(string directory, string name)
    {
        string path = Path.IsPathRooted(name) ? name : Path.Combine(directory, name);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigFileException(path, $"included file cannot be read: {e.Message}");
        }
        if (HoconSyntaxCheck.FindProblem(text) is { } problem)
            throw new ConfigFileException(path, $"not valid HOCON: {problem}");
        string includeDirectory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? directory;
        return Akka.Configuration.Hocon.Parser.Parse(text, n => IncludeBeside(includeDirectory, n));
    }

    private static Config LoadDefaults()
    {
        using Stream? stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("streamdetect.conf");
        if (stream is null) throw new InvalidOperationException("embedded streamdetect.conf is missing from the engine assembly");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
