using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Sharding;

namespace StreamDetect.Engine.Hosting;

/// <summary>
/// Which user partitions this node hosts, for counting the stream's asks to partitions on its own node and on
/// others (<c>RoutingStatistics.LocalAsks</c> / <c>RemoteAsks</c>): every <see cref="Interval"/> a background loop
/// asks the local shard region for its shards (its own state, no partition is woken). Without a cluster every
/// partition is local. A partition that moved since the last look is counted where it was.
/// </summary>
public sealed class PartitionLocality : IDisposable
{
    /// <summary>How often the local shards are looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly IActorRef _region;
    private readonly CancellationTokenSource _stop = new();
    private volatile HashSet<int>? _local;

    private PartitionLocality(IActorRef region)
    {
        _region = region;
    }

    /// <summary>Whether <paramref name="partition"/> was on this node at the last look; null before the first.</summary>
    public bool? IsLocal(int partition) => _local is { } local ? local.Contains(partition) : null;

    /// <summary>Starts watching <paramref name="host"/>'s shard region; null when its partitions run without a cluster (all local).</summary>
    public static async Task<PartitionLocality?> StartAsync(EngineHost host)
    {
        if (!host.System.Settings.ProviderClass.Contains("Cluster", StringComparison.Ordinal)) return null;
        var locality = new PartitionLocality(host.Partitions);
        try
        {
            await locality.RefreshAsync();
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            // the loop tries again
        }
        _ = Task.Run(locality.LoopAsync);
        return locality;
    }

    private async Task RefreshAsync()
    {
        var state = await _region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(2), _stop.Token);
        // One partition per shard or several: the shards hosted here, each with the partitions it holds.
        _local = state.Shards.SelectMany(s => s.EntityIds).Select(id => int.Parse(id, CultureInfo.InvariantCulture)).ToHashSet();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, _stop.Token);
                await RefreshAsync();
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is AskTimeoutException or ObjectDisposedException or InvalidOperationException)
            {
                // the engine is busy or shutting down: the next round tries again
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
    }
}
