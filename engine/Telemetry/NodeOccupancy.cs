using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using StreamDetect.Engine.Hosting;
using StreamDetect.Stages.Partitions;

namespace StreamDetect.Engine.Telemetry;

/// <summary>
/// What this node hosts, for the gauges <c>streamdetect.partitions.local</c> and <c>streamdetect.users.local</c>:
/// every <see cref="Interval"/> a background loop asks the shard region which user partitions live here (the
/// region's own state, no partition is woken) and each of those for its users. A partition that does not
/// answer in time (recovering) keeps its last count. Only runs with metrics on.
/// </summary>
public sealed class NodeOccupancy : IDisposable
{
    /// <summary>How often the figures are refreshed.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly Func<EngineHost?> _host;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<int, int> _users = [];
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private volatile int _partitions = -1;
    private long _totalUsers = -1;

    public NodeOccupancy(Func<EngineHost?> host)
    {
        _host = host;
        _ = Task.Run(LoopAsync);
    }

    /// <summary>User partitions hosted by this node, or null before the engine started.</summary>
    public int? Partitions => _partitions is var p && p >= 0 ? p : null;

    /// <summary>Users held in those partitions, or null before the engine started.</summary>
    public long? Users => Interlocked.Read(ref _totalUsers) is var u && u >= 0 ? u : null;

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (_host() is { } host) await RefreshAsync(host);
                await Task.Delay(Interval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is AskTimeoutException or ObjectDisposedException or InvalidOperationException)
            {
                // The engine is starting or shutting down: the next round tries again.
            }
        }
    }

    /// <summary>Refreshes at once (the end state of a run); a failure leaves the last figures.</summary>
    public async Task RefreshNowAsync(EngineHost host)
    {
        try
        {
            await RefreshAsync(host);
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The last periodic figures stay.
        }
    }

    private async Task RefreshAsync(EngineHost host)
    {
        await _refreshing.WaitAsync(_stop.Token);
        try
        {
            await RefreshUnderLockAsync(host);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task RefreshUnderLockAsync(EngineHost host)
    {
        var state = await host.Partitions.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Interval, _stop.Token);
        var local = state.Shards.SelectMany(s => s.EntityIds).Select(id => int.Parse(id, CultureInfo.InvariantCulture)).ToHashSet();
        var asks = local.Select(async p =>
        {
            try
            {
                var stats = await host.Partitions.Ask<PartitionStats>(new GetPartitionStats(p), Interval, _stop.Token);
                return (p, (int?)stats.Users);
            }
            catch (AskTimeoutException)
            {
                return (p, null);
            }
        }).ToList();
        var answers = await Task.WhenAll(asks);
        foreach (int gone in _users.Keys.Where(p => !local.Contains(p)).ToList()) _users.Remove(gone);
        foreach (var (partition, users) in answers)
            if (users is int count) _users[partition] = count;
        _partitions = local.Count;
        Interlocked.Exchange(ref _totalUsers, _users.Values.Sum(u => (long)u));
    }

    public void Dispose()
    {
        _stop.Cancel();
    }
}
