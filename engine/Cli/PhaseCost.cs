using System.Diagnostics;
using System.Text.Json.Nodes;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// What a phase of `bench` cost the process: CPU seconds (user + system, every thread) and managed bytes
/// allocated, between <see cref="Start"/> and <see cref="Stop"/>. On a shared machine these say more than
/// events/s, which the other processes' load moves.
/// </summary>
public sealed class PhaseCost
{
    private readonly TimeSpan _cpuAtStart;
    private readonly long _allocatedAtStart;
    private readonly int[] _collectionsAtStart;
    private TimeSpan? _cpu;
    private long _allocated;
    private readonly int[] _collections = new int[3];

    private PhaseCost()
    {
        _cpuAtStart = ProcessorTime();
        _allocatedAtStart = GC.GetTotalAllocatedBytes(precise: false);
        _collectionsAtStart = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
    }

    public static PhaseCost Start() => new();

    private static TimeSpan ProcessorTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>Ends the phase (a second call keeps the first end).</summary>
    public PhaseCost Stop()
    {
        if (_cpu is null)
        {
            _cpu = ProcessorTime() - _cpuAtStart;
            _allocated = GC.GetTotalAllocatedBytes(precise: false) - _allocatedAtStart;
            for (int g = 0; g < _collections.Length; g++) _collections[g] = GC.CollectionCount(g) - _collectionsAtStart[g];
        }
        return this;
    }

    /// <summary>Writes cpu_s, cpu_us_per_event, allocated_bytes_per_event and gc_collections ([gen0, gen1, gen2], a
    /// collection of gen N counted in every gen up to N) (each after <paramref name="prefix"/>).</summary>
    public void WriteTo(JsonObject json, long events, string prefix = "")
    {
        Stop();
        double cpu = _cpu!.Value.TotalSeconds;
        json[prefix + "cpu_s"] = Math.Round(cpu, 2);
        json[prefix + "cpu_us_per_event"] = events == 0 ? 0 : Math.Round(cpu * 1e6 / events, 2);
        json[prefix + "allocated_bytes_per_event"] = events == 0 ? 0 : Math.Round((double)_allocated / events);
        json[prefix + "gc_collections"] = new JsonArray(_collections.Select(c => (JsonNode)c).ToArray());
    }
}
