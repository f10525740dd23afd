using System.CommandLine;
using Akka.Configuration;
using StreamDetect.Engine.Configuration;

namespace StreamDetect.Engine.Cli;

/// <summary>Options shared by several commands.</summary>
public static class CommonOptions
{
    /// <summary>`--config FILE` (repeatable, every command): HOCON overlays on the embedded defaults.</summary>
    public static readonly Option<FileInfo[]> Config = new("--config")
    {
        Description = "HOCON file overlaid on the defaults (hocon/streamdetect.conf); repeat for several, later ones win",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    static CommonOptions()
    {
        Config.AcceptExistingOnly();
    }

    /// <summary>The effective configuration for a parsed command line, with optional overrides on top.</summary>
    public static Config LoadConfig(ParseResult parse, string? overrides = null)
    {
        var files = parse.GetValue(Config) ?? [];
        return EngineConfig.Load(files.Select(f => f.FullName), overrides);
    }
}
