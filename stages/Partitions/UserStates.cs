using StreamDetect.Models.Features;

namespace StreamDetect.Stages.Partitions;

/// <summary>Every user's state in one partition (serialized copies, safe to read on any thread).</summary>
public sealed record UserStates(int Partition, IReadOnlyDictionary<string, byte[]> States) : IPartitionProtocol
{
    public UserBehaviorState Read(string userId)
    {
        using var reader = new BinaryReader(new MemoryStream(States[userId]));
        return UserBehaviorState.ReadFrom(reader);
    }
}
