using Akka.Actor;

namespace StreamDetect.Stages.Partitions;

/// <summary>
/// The input ended (a file or generator read to its end, a Kafka run stopped by <c>--stop-after-idle</c>): the
/// partition closes every open session of its users at the stream's last watermark <paramref name="WatermarkMs"/>
/// (the end markers' order key), journaling the close in a row so that a recovery closes exactly the same sessions,
/// and answers with a <see cref="PartitionReply"/> carrying the markers' scoring requests (README "Sessions in the stream").
/// </summary>
/// <param name="ScoringInbox">The stream's scoring inbox when the markers are to be scored; null for an ingest-only run.</param>
public sealed record CloseSessions(int Partition, long WatermarkMs, IActorRef? ScoringInbox = null) : IPartitionMessage
{
    /// <summary>Whether the markers await scoring.</summary>
    public bool AwaitScoring => ScoringInbox is not null;
}
