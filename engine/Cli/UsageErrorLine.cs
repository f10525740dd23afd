using System.CommandLine;
using System.CommandLine.Parsing;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// A command line that does not parse, as one line naming the first problem and where the help is
/// (e.g. <c>error: unknown option '--foo' (see streamdetect run --help)</c>), instead of the full help text.
/// </summary>
public static partial class UsageErrorLine
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
        string message = ExpectedType().Replace(error.Message.TrimEnd('.'), m => $"as {Plain(m.Groups[1].Value)}");
        var option = error.SymbolResult switch
        {
            OptionResult o => o.Option,
            ArgumentResult { Parent: OptionResult o } => o.Option,
            _ => null,
        };
        return option is null || message.Contains(option.Name, StringComparison.Ordinal) ? message : $"{option.Name}: {message}";
    }

    /// <summary>System.CommandLine names the .NET type it wanted ("as expected type 'System.Nullable`1[System.Double]'"): say it in words.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"as expected type '([^']*)'")]
    private static partial System.Text.RegularExpressions.Regex ExpectedType();

    private static string Plain(string type)
    {
        string inner = type.StartsWith("System.Nullable`1[", StringComparison.Ordinal) ? type[18..^1] : type;
        return inner switch
        {
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Int32" or "System.Int64" or "System.Int16" or "System.UInt32" or "System.UInt64" => "a whole number",
            "System.Boolean" => "true or false",
            "System.TimeSpan" => "a duration",
            "System.IO.FileInfo" or "System.IO.DirectoryInfo" => "a path",
            _ => "a value of the expected kind",
        };
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
