namespace StreamDetect.Stages.Partitions;

/// <summary>
/// A partition's answer to <see cref="SettleScoring"/>, sent once the settled alerts are journaled.
/// </summary>
/// <param name="Stale">Tickets the partition did not expect (it recovered meanwhile and issued those users' events again): their alerts are dropped, the new request decides them.</param>
public sealed record ScoringSettled(int Partition, IReadOnlyList<RequestTicket> Stale) : IPartitionProtocol;
