namespace StreamDetect.Stages.Partitions;

/// <summary>
/// Names one scoring request a partition issued: the partition's incarnation (a new one after every
/// recovery or move to another node) and a sequence number. A settlement for a ticket the partition no
/// longer expects (it recovered and issued the user's events again) is stale and ignored, so a user is
/// never settled twice.
/// </summary>
public readonly record struct RequestTicket(long Incarnation, long Sequence)
{
    public static readonly RequestTicket None = new(0, 0);
}
