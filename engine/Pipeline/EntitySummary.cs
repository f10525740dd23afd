namespace StreamDetect.Engine.Pipeline;

/// <summary>The user partitions' part of a run summary: state held and persistence figures.</summary>
public sealed class EntitySummary
{
    public int Partitions { get; set; }
    public int UsersInState { get; set; }
    public long NewUsers { get; set; }
    public long EventsPersisted { get; set; }
    public long DuplicatesDropped { get; set; }
    public long JournalRows { get; set; }
    public double EventsPerRow { get; set; }
    public long Snapshots { get; set; }
    public long EventsInState { get; set; }

    /// <summary>Sessions closed by this run (README "Sessions in the stream"), each scored at its end marker in a scoring run.</summary>
    public long SessionsClosed { get; set; }

    /// <summary>What an entity is: user or session (<c>streamdetect.entities.key</c>).</summary>
    public string EntityKey { get; set; } = "user";
    public long MaxRecoveryMs { get; set; }

    /// <summary>Batches this node's stream sent to partitions on this node (README "Cluster": streamdetect.routing.colocate).</summary>
    public long LocalAsks { get; set; }

    /// <summary>Batches this node's stream sent to partitions on other nodes.</summary>
    public long RemoteAsks { get; set; }

    /// <summary>RemoteAsks over all asks (0..1).</summary>
    public double RemoteAskShare { get; set; }
    public string Store { get; set; } = "";
    public string? DataDir { get; set; }
}
