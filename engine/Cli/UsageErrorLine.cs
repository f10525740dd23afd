using System.CommandLine;
using System.CommandLine.Parsing;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// A command line that does not parse, as one line naming the first problem and where the help is
/// (e.g. <c>error: unknown option '--foo' (see streamdetect run --help)</c>), instead of the full help text.
/// </summary>
public static class UsageErrorLine
{
    /// <summary>The root command's name as users type it (System.CommandLine names it after the process, e.g. a test host).</summary>
    private const string Executable = "streamdetect";

    public static string For(ParseResult parse)
    {
        string command = CommandPath(parse.CommandResult);
        string problem = parse.UnmatchedTokens is [var token, ..]
            ? token.StartsWith('-') ? $"unknown option '{token}'"
              : parse.CommandResult.Command is RootCommand || parse.CommandResult.Command.Subcommands.Count > 0 ? $"unknown command '{token}'"
              : $"unexpected argument '{token}'"
            : Describe(parse.Errors[0]);
        return $"error: {problem} (see {command} --help)";
    }

    private static string Describe(ParseError error)
    {
        string message = error.Message.TrimEnd('.');
        var option = error.SymbolResult switch
        {
            OptionResult o => o.Option,
            ArgumentResult { Parent: OptionResult o } => o.Option,
            _ => null,
        };
        return option is null || message.Contains(option.Name, StringComparison.Ordinal) ? message : $"{option.Name}: {message}";
    }

    /// <summary>"streamdetect state dump": the command names from the root down.</summary>
    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? current = result; current is not null; current = current.Parent)
            if (current is CommandResult command) names.Add(command.Command is RootCommand ? Executable : command.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }
}
