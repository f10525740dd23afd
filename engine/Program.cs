using System.CommandLine;
using System.CommandLine.Help;
using StreamDetect.Engine.Cli;

// A command line that does not parse is one line naming the problem, exit 2 (not the full help, exit 1).
var parse = StreamDetectCli.Build().Parse(args);
if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
{
    Console.Error.WriteLine(UsageErrorLine.For(parse));
    return ExitCodes.UsageError;
}

// Ctrl-C and SIGTERM (docker stop) cancel the command's token; a Kafka run then stops consuming,
// finishes what is in flight, commits and prints its report. The process exits anyway if that takes
// longer than this (System.CommandLine's default, 2 s, cut the drain short). A command stopped before
// its end exits with the signal's code (130 or 143), which TerminationSignals remembers; it replaces
// System.CommandLine's signal handling (off: ProcessTerminationTimeout = null).
using var signals = TerminationSignals.Listen(StreamDetectCli.ShutdownTimeout);
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await parse.InvokeAsync(invocation, signals.Stop);
