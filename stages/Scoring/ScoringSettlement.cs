using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Settles decided requests with their partitions: one <see cref="SettleScoring"/> ask per partition per
/// decided list, at most <c>parallelism</c> lists at once. A request's alerts go on only when its partition
/// has journaled them (a stale request's alerts are dropped: its partition recovered and decides those
/// events again). The requests' events count as settled in the decision ledger once their alerts have
/// reached the alert release (<see cref="Alerts.AlertRelease"/> marks them), so an alert can never be
/// released ahead of one that sorts before it.
/// <para>
/// A settlement not answered within <c>resendAfter</c> is sent again (a partition whose node died never answers; its
/// next incarnation finds the tickets stale). A copy reaching a partition that settled the first already is answered
/// as settled, after the first's alerts are journaled (<c>PartitionState.Settle</c>), so a copy never drops alerts.
/// </para>
/// </summary>
public static class ScoringSettlement
{
    /// <param name="resendAfter">Zero: each settlement is sent once.</param>
    public static Flow<IReadOnlyList<DecidedRequest>, SettledBatch, NotUsed> Create(IActorRef partitions, ScoringContext context, int parallelism, TimeSpan askTimeout,
        TimeSpan resendAfter = default) =>
        Flow.Create<IReadOnlyList<DecidedRequest>>()
            .SelectAsyncUnordered(parallelism, decided => SettleAsync(partitions, context, decided, askTimeout, resendAfter))
            .Named("settlement");

    private static async Task<SettledBatch> SettleAsync(IActorRef partitions, ScoringContext context, IReadOnlyList<DecidedRequest> decided, TimeSpan timeout, TimeSpan resendAfter)
    {
        var byPartition = new Dictionary<int, List<SettledUser>>();
        foreach (var d in decided)
        {
            var r = d.Request;
            if (!byPartition.TryGetValue(r.Partition, out var users)) byPartition[r.Partition] = users = [];
            users.Add(new SettledUser(r.UserId, r.Ticket, r.EventCount, d.Output.NewState, d.Alert, d.Alerts));
        }
        var asks = byPartition.Select(p => PartitionAsk.WithResendAsync<ScoringSettled>(partitions, new SettleScoring(p.Key, context.Inbox, p.Value), timeout, resendAfter)).ToArray();
        var answers = await Task.WhenAll(asks).ConfigureAwait(false);

        HashSet<RequestTicket>? stale = null;
        foreach (var answer in answers)
            foreach (var ticket in answer.Stale) (stale ??= []).Add(ticket);
        var alerts = new List<AlertRecord>();
        foreach (var d in decided)
            if (d.Alerts.Count > 0 && stale?.Contains(d.Request.Ticket) != true) alerts.AddRange(d.Alerts);
        return new SettledBatch(decided, alerts);
    }
}
