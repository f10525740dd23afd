using System.Diagnostics;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Tests.Scoring;

public sealed class MicroBatcherTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("micro-batcher-tests");
    private readonly IMaterializer _materializer;

    public MicroBatcherTests()
    {
        _materializer = _system.Materializer();
    }

    public void Dispose() => _system.Dispose();

    private static Flow<int, IReadOnlyList<int>, Akka.NotUsed> Batcher(int maxBatch, int maxWaitMs) =>
        Flow.FromGraph(new MicroBatcher<int>(new MicroBatcherSettings { MaxBatch = maxBatch, MaxWait = TimeSpan.FromMilliseconds(maxWaitMs) }));

    [Fact]
    public async Task MicroBatcher_must_never_exceed_max_batch_and_keep_every_element_in_order()
    {
        var batches = await Source.From(Enumerable.Range(0, 10_007))
            .Via(Batcher(100, 1000))
            .RunWith(Sink.Seq<IReadOnlyList<int>>(), _materializer)
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.All(batches, b => Assert.InRange(b.Count, 1, 100));
        Assert.Equal(Enumerable.Range(0, 10_007), batches.SelectMany(b => b));
        Assert.Equal(101, batches.Count); // 100 full batches and the 7 flushed at completion
    }

    [Fact]
    public async Task MicroBatcher_must_emit_a_partial_batch_once_its_first_element_waited_max_wait()
    {
        var (queue, output) = Source.Queue<int>(16, OverflowStrategy.Backpressure)
            .Via(Batcher(1000, 150))
            .ToMaterialized(Sink.Queue<IReadOnlyList<int>>(), Keep.Both)
            .Run(_materializer);

        var clock = Stopwatch.StartNew();
        await queue.OfferAsync(1, TestContext.Current.CancellationToken);
        await queue.OfferAsync(2, TestContext.Current.CancellationToken);
        await queue.OfferAsync(3, TestContext.Current.CancellationToken);
        var batch = await output.PullAsync().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.Equal([1, 2, 3], batch.Value);
        Assert.True(clock.ElapsedMilliseconds >= 140, $"emitted after {clock.ElapsedMilliseconds} ms, before max-wait");

        // A later element starts a new clock: it is not emitted at once just because time passed.
        await Task.Delay(300, TestContext.Current.CancellationToken);
        clock.Restart();
        await queue.OfferAsync(4, TestContext.Current.CancellationToken);
        batch = await output.PullAsync().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal([4], batch.Value);
        Assert.True(clock.ElapsedMilliseconds >= 140, $"emitted after {clock.ElapsedMilliseconds} ms, before max-wait");
        queue.Complete();
    }

    [Fact]
    public async Task MicroBatcher_must_emit_a_full_batch_at_once_without_waiting_for_max_wait()
    {
        var clock = Stopwatch.StartNew();
        var first = await Source.From(Enumerable.Range(0, 50)).Concat(Source.Never<int>())
            .Via(Batcher(50, 60_000))
            .RunWith(Sink.First<IReadOnlyList<int>>(), _materializer)
            .WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(50, first.Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task MicroBatcher_must_stop_pulling_when_downstream_does_not_take_batches()
    {
        long pulled = 0;
        IEnumerable<int> Counted()
        {
            for (int i = 0; ; i++)
            {
                Interlocked.Increment(ref pulled);
                yield return i;
            }
        }

        var output = Source.From(Counted())
            .Via(Batcher(100, 10))
            .RunWith(Sink.Queue<IReadOnlyList<int>>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), _materializer);

        // Wait until pulling stops (a loaded machine may take a while to fill the buffers), then check it stays stopped.
        var settle = System.Diagnostics.Stopwatch.StartNew();
        long before;
        do
        {
            before = Interlocked.Read(ref pulled);
            await Task.Delay(200, TestContext.Current.CancellationToken);
        } while (Interlocked.Read(ref pulled) != before && settle.Elapsed < TimeSpan.FromSeconds(10));
        await Task.Delay(500, TestContext.Current.CancellationToken);
        long after = Interlocked.Read(ref pulled);

        // one batch held by the batcher, one or two in the sink's buffer, plus the source's look-ahead
        Assert.Equal(before, after);
        Assert.True(after <= 100 * 4 + 32, $"{after} elements pulled");

        var batch = await output.PullAsync();
        Assert.Equal(100, batch.Value.Count);
    }
}
