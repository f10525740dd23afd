using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Cli;

/// <summary>The exit codes of every command (README, "Exit codes").</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>An unexpected internal error (a bug): one line, the stack trace only with <c>--verbose</c>.</summary>
    public const int InternalError = 1;

    /// <summary>A usage or input error the user can fix: one line naming the option, key, file or record.</summary>
    public const int UsageError = 2;

    /// <summary>The store (SQLite file, PostgreSQL) failed past its retry limit.</summary>
    public const int StoreFailure = 3;

    /// <summary>Kafka failed: unreachable bootstrap, missing topic, records lost to retention (when set to fail).</summary>
    public const int BrokerFailure = 4;

    /// <summary>The data directory is held by another run.</summary>
    public const int DataDirectoryLocked = 5;

    /// <summary>Stopped by Ctrl-C (SIGINT) before the end.</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM before the end (a file or generator run).</summary>
    public const int Terminated = 143;

    public static int For(FailedResource resource) => resource switch
    {
        FailedResource.Store => StoreFailure,
        FailedResource.Broker => BrokerFailure,
        FailedResource.DataDirectoryLocked => DataDirectoryLocked,
        _ => InternalError,
    };
}
