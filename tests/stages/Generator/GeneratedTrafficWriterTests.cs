using StreamDetect.Stages.Generator;

namespace StreamDetect.Stages.Tests.Generator;

public sealed class GeneratedTrafficWriterTests
{
    private static readonly GeneratorSettings Settings = new() { Users = 400, Days = 2, Seed = 21 };

    [Fact]
    public void Truth_path_is_beside_the_output()
    {
        Assert.Equal("/data/g.jsonl.truth.json", GeneratedTrafficWriter.TruthPathFor("/data/g.jsonl"));
    }

    [Fact]
    public void A_failing_output_stops_generation_and_surfaces_the_error()
    {
        var generator = new TrafficGenerator(Settings);
        long total = new TrafficGenerator(Settings).Events().LongCount();

        var error = Assert.Throws<IOException>(() =>
            GeneratedTrafficWriter.WriteEvents(generator, new FailingStream(failAfterBytes: 1_000_000), cancellation: TestContext.Current.CancellationToken));

        Assert.Equal("disk full", error.Message);
        Assert.True(generator.Produced < total, $"generation ran on to {generator.Produced} of {total} events");
    }

    [Fact]
    public void Cancellation_stops_the_writer()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            GeneratedTrafficWriter.WriteEvents(new TrafficGenerator(Settings), Stream.Null, cancellation: cancel.Token));
    }

    [Fact]
    public void Progress_is_reported_with_growing_counts()
    {
        var reports = new List<long>();
        var summary = GeneratedTrafficWriter.WriteEvents(new TrafficGenerator(Settings), Stream.Null,
            (events, _) => reports.Add(events), TimeSpan.Zero, TestContext.Current.CancellationToken);

        Assert.NotEmpty(reports);
        Assert.Equal(reports.Order(), reports);
        Assert.True(reports[^1] <= summary.Events);
    }

    private sealed class FailingStream(long failAfterBytes) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _written += buffer.Length;
            if (_written > failAfterBytes) throw new IOException("disk full");
        }
    }
}
