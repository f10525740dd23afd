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

    /// <summary>`--verbose` (every command): a failure also prints its stack trace after the one error line.</summary>
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "On a failure, also print the stack trace after the one error line",
        Recursive = true,
    };

    static CommonOptions()
    {
        Config.AcceptExistingOnly();
    }

    /// <summary>The effective configuration for a parsed command line, with optional overrides on top.</summary>
    public static Config LoadConfig(ParseResult parse, string? overrides = null)
    {
        var files = parse.GetValue(Config) ?? [];
        // --verbose: logged exceptions come with their stack traces too.
        if (parse.GetValue(Verbose)) overrides = $"{overrides}\nstreamdetect.logging.stack-traces = on\n";
        return EngineConfig.Load(files.Select(f => f.FullName), overrides);
    }
}
