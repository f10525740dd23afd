using System.CommandLine;
using System.Reflection;
using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Persistence;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// Runs a command's body under the one error contract of every command (README, "Exit codes"): whatever
/// it throws becomes exactly one line on stderr and a documented exit code. Errors the user can fix (bad
/// options, settings, files) exit 2; failures of the environment exit with their resource's code; a stop
/// by Ctrl-C or SIGTERM exits 130 or 143; anything else is a bug: <c>error: TYPE: MESSAGE</c>, exit 1.
/// The stack trace is printed only with <c>--verbose</c>.
/// </summary>
public static class CommandRunner
{
    /// <summary>Exit code for a usage or input error the user can fix.</summary>
    public const int UsageError = ExitCodes.UsageError;

    public static async Task<int> RunAsync(ParseResult parse, Func<CancellationToken, Task<int>> body, CancellationToken cancellation)
    {
        bool verbose = parse.GetValue(CommonOptions.Verbose);
        try
        {
            return await body(cancellation);
        }
        catch (Exception e)
        {
            var (code, line) = Describe(e, cancellation.IsCancellationRequested, TerminationSignals.Received);
            Console.Error.WriteLine(line);
            if (verbose) Console.Error.WriteLine(e);
            return code;
        }
    }

    /// <summary>The exit code and the one line for a failure (<paramref name="stopping"/>: the command was asked to stop).</summary>
    public static (int Code, string Line) Describe(Exception failure, bool stopping, int? signalExitCode)
    {
        var cause = RootCause(failure);
        // Whatever a stream throws while it is being torn down after Ctrl-C or SIGTERM is part of the stop.
        if (stopping)
        {
            int code = signalExitCode ?? ExitCodes.Interrupted;
            return (code, code == ExitCodes.Terminated ? "stopped by SIGTERM before the end" : "interrupted before the end");
        }
        return cause switch
        {
            UserInputException or SettingsException or ConfigFileException or ModelFileException => (UsageError, "error: " + OneLine(cause.Message)),
            ConfigurationException => (UsageError, "error: configuration: " + OneLine(cause.Message)),
            EnvironmentFailureException environment => (ExitCodes.For(environment.Resource), "error: " + OneLine(cause.Message)),
            // A file the command reads or writes cannot be used (permissions, a missing directory, a full disk).
            IOException or UnauthorizedAccessException => (UsageError, "error: " + OneLine(cause.Message)),
            _ => (ExitCodes.InternalError, $"error: {cause.GetType().FullName}: {OneLine(cause.Message)} (an internal error; --verbose prints the stack trace)"),
        };
    }

    /// <summary>The exception behind the wrappers that tasks, reflection and type initializers add.</summary>
    public static Exception RootCause(Exception failure)
    {
        var current = failure;
        while (true)
        {
            Exception? inner = current switch
            {
                AggregateException aggregate => aggregate.Flatten().InnerExceptions is [var single, ..] ? single : null,
                TargetInvocationException or TypeInitializationException => current.InnerException,
                _ => null,
            };
            if (inner is null) return current;
            current = inner;
        }
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
