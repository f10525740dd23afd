using Akka.Actor;

namespace StreamDetect.Stages.Routing;

/// <summary>
/// An ask to a user partition that survives the loss of the partition's node: the message is sent again each
/// <c>resendAfter</c> without an answer, until <c>timeout</c>. A message to a partition whose node died (kill -9) is
/// lost; once the cluster has downed that node, sharding starts the partition elsewhere and the next copy reaches it.
/// For messages a partition may receive twice (a batch, a close, a settlement, a stats request).
/// <para>
/// Every copy is sent from the one ask (the same temporary reply actor), which waits for the whole <c>timeout</c>: the
/// first answer to any copy is the answer, later ones are ignored. (Each copy had its own ask that gave up after
/// <c>resendAfter</c>: a partition that answered the first copy late, its write slowed by a loaded machine, answered it
/// to an ask already given up, and the copy sent again found its events persisted, a replay: the stream took the
/// replay's answer, dropped the events from its decision ledger and never got the requests of the first answer. Their
/// users' later events waited behind those requests for ever, and the run stalled.)
/// </para>
/// </summary>
public static class PartitionAsk
{
    /// <param name="resendAfter">Zero: sent once.</param>
    public static async Task<T> WithResendAsync<T>(IActorRef partitions, object message, TimeSpan timeout, TimeSpan resendAfter)
    {
        IActorRef? replyTo = null;
        var ask = partitions.Ask<T>(temp =>
        {
            replyTo = temp;
            return message;
        }, timeout, CancellationToken.None);
        if (resendAfter <= TimeSpan.Zero || resendAfter >= timeout) return await ask.ConfigureAwait(false);
        var clock = global::System.Diagnostics.Stopwatch.StartNew();
        using var answered = new CancellationTokenSource();
        while (!ask.IsCompleted)
        {
            var remaining = timeout - clock.Elapsed;
            if (resendAfter >= remaining) break;
            // A delay, not an ask's timeout: the one ask keeps waiting for an answer to any copy.
            await Task.WhenAny(ask, Task.Delay(resendAfter, answered.Token)).ConfigureAwait(false);
            if (!ask.IsCompleted && replyTo is not null) partitions.Tell(message, replyTo);
        }
        answered.Cancel(); // the pending delay's timer
        return await ask.ConfigureAwait(false);
    }
}
