using StreamDetect.Models.Features;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// Maps a user to one of a fixed number of partitions with a process-independent hash, so the same
/// user always lands on the same persistent partition entity on every node and after every restart.
/// </summary>
public static class UserPartitioner
{
    public static int PartitionOf(string userId, int partitions) =>
        (int)((uint)StableHash.Of(userId) % (uint)partitions);
}
