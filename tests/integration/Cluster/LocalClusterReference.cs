using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cluster;

/// <summary>The single-node run <see cref="LocalClusterTests"/> compare clusters with: made once, on first use, and kept for the class.</summary>
public sealed class LocalClusterReference : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _result;

    public TempDirectory Work { get; } = new("sd-local-cluster-single-");

    public async Task<string> GetAsync(Func<Task<string>> run)
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            return _result ??= await run();
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        Work.Dispose();
        _gate.Dispose();
    }
}
