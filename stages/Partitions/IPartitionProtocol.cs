namespace StreamDetect.Stages.Partitions;

/// <summary>
/// Marks every message of the user-partition protocol: what the stream (or a tool) sends to a user
/// partition, what the partition answers, and what it sends back to a stream's scoring inbox. The
/// engine's serializer is bound to this interface once (hocon/streamdetect.conf), so a message added
/// here crosses nodes without another binding.
/// </summary>
public interface IPartitionProtocol;
