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
    public long MaxRecoveryMs { get; set; }
    public string Store { get; set; } = "";
    public string? DataDir { get; set; }
}
