using Akka.Actor;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// An ask to a user partition that survives the loss of the partition's node: the message is sent again each
/// <c>resendAfter</c> without an answer, until <c>timeout</c>. A message to a partition whose node died (kill -9) is
/// lost; once the cluster has downed that node, sharding starts the partition elsewhere and the next copy reaches it.
/// For messages a partition may receive twice (a batch, a close, a stats request).
/// </summary>
public static class PartitionAsk
{
    /// <param name="resendAfter">Zero: sent once.</param>
    public static async Task<T> WithResendAsync<T>(IActorRef partitions, object message, TimeSpan timeout, TimeSpan resendAfter)
    {
        var clock = global::System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var remaining = timeout - clock.Elapsed;
            bool resend = resendAfter > TimeSpan.Zero && resendAfter < remaining;
            try
            {
                return await partitions.Ask<T>(message, resend ? resendAfter : remaining);
            }
            catch (AskTimeoutException) when (resend)
            {
                // not answered yet: send again
            }
        }
    }
}
