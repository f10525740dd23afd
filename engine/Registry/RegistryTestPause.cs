namespace StreamDetect.Engine.Registry;

/// <summary>
/// A test hook for the crash tests: with the environment variable <see cref="Variable"/> set to an
/// operation's name (register, gates, shadow, reject, promote, rollback), that operation stops inside its
/// transaction, after every row is written and before the commit, says so on stderr and waits to be
/// killed. Unset (always, outside those tests), it costs one environment read per write.
/// </summary>
internal static class RegistryTestPause
{
    public const string Variable = "STREAMDETECT_TEST_PAUSE_IN_REGISTRY";

    public static void BeforeCommit(string operation)
    {
        if (Environment.GetEnvironmentVariable(Variable) != operation) return;
        Console.Error.WriteLine($"test hook: paused inside the {operation} transaction before its commit (pid {Environment.ProcessId})");
        Console.Error.Flush();
        Thread.Sleep(Timeout.Infinite);
    }
}
