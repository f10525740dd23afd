using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// <see cref="StoreOutageTests"/>' input (1,500 generated users) and the per-user states of its uninterrupted runs,
/// one per store kind, made once for the class on first use (every test of a kind compared with an identical run of
/// its own before).
/// </summary>
public sealed class UninterruptedStates : IDisposable
{
    private readonly TempDirectory _dir = new("sd-outage-reference-");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, Dictionary<string, (long Count, float[] Features)>> _states = new(StringComparer.Ordinal);
    private string? _input;

    /// <summary>The input every test runs (written on first use).</summary>
    public string Input => _input ??= GeneratedInput.Write(_dir.File("in.jsonl"), users: 1500);

    /// <summary>A directory for the uninterrupted runs' data.</summary>
    public string Directory => _dir.Path;

    /// <summary>The states of the uninterrupted run on <paramref name="store"/>, made by <paramref name="run"/> on first use.</summary>
    public async Task<Dictionary<string, (long Count, float[] Features)>> GetAsync(string store, Func<Task<Dictionary<string, (long Count, float[] Features)>>> run)
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (!_states.TryGetValue(store, out var states)) _states[store] = states = await run();
            return states;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _dir.Dispose();
        _gate.Dispose();
    }
}
