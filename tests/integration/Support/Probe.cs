using System.Diagnostics;

namespace StreamDetect.Integration.Tests.Support;

/// <summary>Waits for a condition by probing it every 50 ms; fails with what the engine said when it never holds.</summary>
public static class Probe
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"the condition did not hold within {timeout}; stderr so far:\n{describe()}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
