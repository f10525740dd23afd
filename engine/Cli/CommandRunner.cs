using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// Runs a command's body and turns the errors a user can fix (bad settings, unreadable files, bad
/// input formats) into one clear line on stderr and exit code 2, instead of a stack trace.
/// </summary>
public static class CommandRunner
{
    /// <summary>Exit code for a usage or input error the user can fix.</summary>
    public const int UsageError = ExitCodes.UsageError;

    public static async Task<int> RunAsync(Func<CancellationToken, Task<int>> body, CancellationToken cancellation)
    {
        try
        {
            return await body(cancellation);
        }
        catch (UserInputException e)
        {
            return Fail(e.Message);
        }
        catch (SettingsException e)
        {
            return Fail(e.Message);
        }
        catch (ConfigFileException e)
        {
            return Fail(e.Message);
        }
        catch (ConfigurationException e)
        {
            return Fail($"configuration: {e.Message}");
        }
        catch (EnvironmentFailureException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.For(e.Resource);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return UsageError;
    }
}
