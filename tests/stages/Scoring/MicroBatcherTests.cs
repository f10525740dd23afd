using System.Diagnostics;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using Akka.TestKit.Xunit;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Tests.Scoring;

public sealed class MicroBatcherTests : TestKit
{
    /// <summary>Longer than any test runs: a batch emitted under it was emitted for its size or by completion.</summary>
    private static readonly TimeSpan Never = TimeSpan.FromHours(1);

    private readonly IMaterializer _materializer;

    public MicroBatcherTests(ITestOutputHelper output)
        : base(output: output)
    {
        _materializer = Sys.Materializer();
    }

    private static Flow<int, IReadOnlyList<int>, NotUsed> Batcher(int maxBatch, TimeSpan maxWait) =>
        Flow.FromGraph(new MicroBatcher<int>(new MicroBatcherSettings { MaxBatch = maxBatch, MaxWait = maxWait }));

    private (TestPublisher.Probe<int> Upstream, TestSubscriber.Probe<IReadOnlyList<int>> Downstream) Run(int maxBatch, TimeSpan maxWait) =>
        TestSource.SourceProbe<int>(this)
            .Via(Batcher(maxBatch, maxWait))
            .ToMaterialized(TestSink.SinkProbe<IReadOnlyList<int>>(this), Keep.Both)
            // one element between the probe and the stage, so the probe sees the stage's own pulls
            .AddAttributes(Attributes.CreateInputBuffer(1, 1))
            .Run(_materializer);

    [Fact]
    public async Task MicroBatcher_must_never_exceed_max_batch_and_keep_every_element_in_order()
    {
        await this.AssertAllStagesStoppedAsync(async () =>
        {
            var batches = await Source.From(Enumerable.Range(0, 10_007))
                .Via(Batcher(100, Never))
                .RunWith(Sink.Seq<IReadOnlyList<int>>(), _materializer)
                .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            Assert.All(batches, b => Assert.InRange(b.Count, 1, 100));
            Assert.Equal(Enumerable.Range(0, 10_007), batches.SelectMany(b => b));
            Assert.Equal(101, batches.Count); // 100 full batches and the 7 flushed at completion
        }, _materializer);
    }

    [Fact]
    public async Task MicroBatcher_must_emit_a_full_batch_at_once_without_waiting_for_max_wait()
    {
        await this.AssertAllStagesStoppedAsync(async () =>
        {
            var (upstream, downstream) = Run(3, Never);
            downstream.Request(2);
            foreach (int i in new[] { 1, 2, 3, 4 }) await upstream.SendNextAsync(i);

            // max-wait is an hour: only the size can have closed it
            Assert.Equal([1, 2, 3], await downstream.ExpectNextAsync());
            await upstream.SendCompleteAsync();
            Assert.Equal([4], await downstream.ExpectNextAsync());
            await downstream.ExpectCompleteAsync();
        }, _materializer);
    }

    [Fact]
    public async Task MicroBatcher_must_emit_a_partial_batch_once_its_first_element_waited_max_wait()
    {
        var maxWait = TimeSpan.FromMilliseconds(200);
        await this.AssertAllStagesStoppedAsync(async () =>
        {
            var (upstream, downstream) = Run(1000, maxWait);
            downstream.Request(10);

            var clock = Stopwatch.StartNew();
            await upstream.SendNextAsync(1);
            await upstream.SendNextAsync(2);
            Assert.Equal([1, 2], await downstream.ExpectNextAsync());
            Assert.True(clock.Elapsed >= maxWait, $"emitted after {clock.ElapsedMilliseconds} ms, before max-wait");

            // With nothing in it, the batcher emits nothing, however long it waits...
            await downstream.ExpectNoMsgAsync(maxWait * 2);
            // ...and a later element starts a new clock: it is not emitted at once because time passed.
            clock.Restart();
            await upstream.SendNextAsync(3);
            Assert.Equal([3], await downstream.ExpectNextAsync());
            Assert.True(clock.Elapsed >= maxWait, $"emitted after {clock.ElapsedMilliseconds} ms, before max-wait");

            await upstream.SendCompleteAsync();
            await downstream.ExpectCompleteAsync();
        }, _materializer);
    }

    [Fact]
    public async Task MicroBatcher_must_stop_pulling_when_its_batch_is_full_and_downstream_does_not_pull()
    {
        await this.AssertAllStagesStoppedAsync(async () =>
        {
            const int maxBatch = 5;
            var (upstream, downstream) = Run(maxBatch, Never);
            await downstream.EnsureSubscriptionAsync();

            // Downstream asks for nothing: the stage takes a full batch, the input buffer one more...
            for (int i = 0; i < maxBatch + 1; i++) await upstream.SendNextAsync(i);
            // ...and then asks for nothing more.
            Assert.Equal(0, upstream.Pending);
            await upstream.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

            // Taking the batch lets it pull again.
            downstream.Request(1);
            Assert.Equal([0, 1, 2, 3, 4], await downstream.ExpectNextAsync());
            Assert.True(await upstream.ExpectRequestAsync() > 0);

            await upstream.SendCompleteAsync();
            downstream.Request(1);
            Assert.Equal([5], await downstream.ExpectNextAsync());
            await downstream.ExpectCompleteAsync();
        }, _materializer);
    }

    [Fact]
    public async Task MicroBatcher_must_flush_the_last_batch_on_completion_even_if_downstream_asks_later()
    {
        await this.AssertAllStagesStoppedAsync(async () =>
        {
            var (upstream, downstream) = Run(100, Never);
            await downstream.EnsureSubscriptionAsync();
            await upstream.SendNextAsync(7);
            await upstream.SendNextAsync(8);
            await upstream.SendCompleteAsync();

            downstream.Request(5);
            Assert.Equal([7, 8], await downstream.ExpectNextAsync());
            await downstream.ExpectCompleteAsync();
        }, _materializer);
    }

    [Fact]
    public async Task MicroBatcher_must_complete_without_an_empty_batch_when_nothing_is_pending()
    {
        await this.AssertAllStagesStoppedAsync(async () =>
        {
            var (upstream, downstream) = Run(100, TimeSpan.FromMilliseconds(50));
            downstream.Request(5);
            await upstream.SendNextAsync(1);
            Assert.Equal([1], await downstream.ExpectNextAsync()); // by max-wait
            await upstream.SendCompleteAsync();
            await downstream.ExpectCompleteAsync();
        }, _materializer);
    }

    [Fact]
    public async Task MicroBatcher_must_fail_with_the_upstream_failure()
    {
        await this.AssertAllStagesStoppedAsync(async () =>
        {
            var (upstream, downstream) = Run(100, Never);
            downstream.Request(5);
            await upstream.SendNextAsync(1);
            var failure = new InvalidOperationException("source broke");
            await upstream.SendErrorAsync(failure);

            Assert.Same(failure, await downstream.ExpectErrorAsync());
        }, _materializer);
    }

    [Fact]
    public async Task MicroBatcher_must_cancel_upstream_when_downstream_cancels()
    {
        await this.AssertAllStagesStoppedAsync(async () =>
        {
            var (upstream, downstream) = Run(100, Never);
            downstream.Request(1);
            await upstream.SendNextAsync(1);
            downstream.Cancel();
            await upstream.ExpectCancellationAsync();
        }, _materializer);
    }
}
