using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Plans;

/// <summary>
/// Cluster-wide model plans (issue 11), HOCON <c>streamdetect.online-learning.shared-plans</c> (commented in
/// hocon/streamdetect.conf): whether a run's boundaries are decided by one node for all (a cluster singleton writing
/// each plan to the store and broadcasting it) and followed by the others, and how a follower waits.
/// </summary>
public sealed record SharedPlanSettings
{
    private const string Block = "streamdetect.online-learning.shared-plans";

    /// <summary>On: plans are shared through the store (and the registry's champion is followed); off: each run decides its own boundaries, as before.</summary>
    public bool Enabled { get; init; }

    /// <summary>The cluster role of the node that decides, when a member has it as the run starts; else the oldest node decides.</summary>
    public string TrainerRole { get; init; } = "trainer";

    /// <summary>How often a node waiting at a boundary reads the store (a broadcast it missed).</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long (wall time) a follower waits at a boundary before it writes "unchanged" for it itself (first writer wins); zero: forever.</summary>
    public TimeSpan FollowerTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public static SharedPlanSettings Create(Config config)
    {
        var r = new SettingsReader(config, Block);
        return new SharedPlanSettings
        {
            Enabled = r.Bool("enabled"),
            TrainerRole = r.String("trainer-role"),
            Poll = r.Duration("poll"),
            FollowerTimeout = r.Duration("follower-timeout", allowZero: true),
        };
    }
}
