using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using Akka.TestKit.Xunit;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Tests.Alerts;

public sealed class AlertReleaseTests(ITestOutputHelper output) : TestKit(output: output)
{
    private static readonly SourceStream Stream = new("in.jsonl", 0, 1);

    /// <summary>A settled request of one event built from pooled arrays, its key admitted and decided in <paramref name="ledger"/>.</summary>
    private static (SettledBatch Batch, ScoringRequestArrays Pooled) SettledPooledRequest(DecisionLedger ledger)
    {
        var window = ScoringRequestArrays.Windows.Rent(2);
        window[0] = new WindowEntry("login", 1_000, float.NaN, 0, 0);
        window[1] = new WindowEntry("view", 2_000, float.NaN, 7, 3);
        var features = ScoringRequestArrays.Features.Rent(FeatureSchema.Count);
        Array.Clear(features);
        var keys = ScoringRequestArrays.Keys.Rent(1);
        keys[0] = ledger.Admit(Stream, 2_000);
        ledger.Decided(keys[0]);
        var pooled = new ScoringRequestArrays(window, features, keys, null, null, null);
        var request = new ScoringRequest("u-1", 0, window, 1, features, null, 2, 1_000, keys, UserAlertState.None, RequestTicket.None) { Pooled = pooled };
        var decided = new DecidedRequest(request, new ScoringOutput(0.1, null, new Explanation("zscore", 0.1, [], [], [])), "zscore@1", UserAlertState.None, []);
        return (new SettledBatch([decided], []), pooled);
    }

    private TestPublisher.Probe<SettledBatch> Run(ScoringContext context, bool returnsRequestArrays) =>
        TestSource.SourceProbe<SettledBatch>(this)
            .Via(new AlertRelease(context, returnsRequestArrays))
            .To(Sink.Ignore<AlertRecord>())
            .Run(Sys.Materializer());

    [Fact]
    public async Task The_release_gives_a_settled_requests_pooled_arrays_back_once_its_events_are_marked_settled()
    {
        var ledger = new DecisionLedger();
        var (batch, pooled) = SettledPooledRequest(ledger);
        var upstream = Run(new ScoringContext(ledger), returnsRequestArrays: true);
        await upstream.ExpectRequestAsync();
        await upstream.SendNextAsync(batch);
        await AwaitAssertAsync(() => Assert.True(pooled.IsReturned));
        Assert.True(ledger.AllSettledThrough(batch.Requests[0].Request.OrderKeys[0]));
    }

    [Fact]
    public async Task Without_returning_them_the_release_leaves_a_requests_arrays_to_it()
    {
        var ledger = new DecisionLedger();
        var (batch, pooled) = SettledPooledRequest(ledger);
        var upstream = Run(new ScoringContext(ledger), returnsRequestArrays: false);
        await upstream.ExpectRequestAsync();
        await upstream.SendNextAsync(batch);
        // A second batch settled means the stage is done with the first.
        var (next, _) = SettledPooledRequest(ledger);
        await upstream.SendNextAsync(next);
        await AwaitAssertAsync(() => Assert.True(ledger.AllSettledThrough(next.Requests[0].Request.OrderKeys[0])));
        Assert.False(pooled.IsReturned);
    }
}
