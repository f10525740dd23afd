using System.Text;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Tests.Sources;

public sealed class RecordFileReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sd-reader-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public void Lines_come_out_with_their_line_numbers_skipping_blank_lines_and_CRLF()
    {
        string path = Write("a.jsonl", Encoding.UTF8.GetBytes("{\"a\":1}\r\n\r\n   \n{\"b\":2}\n{\"c\":3}"));
        var records = new RecordFileReader(path, 1024).Read().ToList();

        Assert.Equal([1L, 4L, 5L], records.Select(r => r.Position.Offset));
        Assert.Equal(["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"], records.Select(r => Encoding.UTF8.GetString(r.Bytes.Span)));
        Assert.All(records, r => Assert.Null(r.Csv));
    }

    [Fact]
    public void A_line_longer_than_the_limit_is_kept_as_a_prefix_and_the_next_lines_are_intact()
    {
        var content = new MemoryStream();
        content.Write("{\"first\":1}\n"u8);
        content.Write(Encoding.ASCII.GetBytes(new string('x', 3_000_000)));
        content.Write("\n{\"after\":2}\n"u8);
        string path = Write("big.jsonl", content.ToArray());

        var progress = new ReadProgress();
        var records = new RecordFileReader(path, maxRecordBytes: 64 * 1024, oversizePrefixBytes: 100, bufferSize: 128 * 1024).Read(progress).ToList();

        Assert.Equal(3, records.Count);
        Assert.True(records[1].IsTruncated);
        Assert.Equal(3_000_000, records[1].Length);
        Assert.Equal(100, records[1].Bytes.Length);
        Assert.Equal(2L, records[1].Position.Offset);
        Assert.Equal("{\"after\":2}", Encoding.UTF8.GetString(records[2].Bytes.Span));
        Assert.Equal(3L, records[2].Position.Offset);
        Assert.Equal(new FileInfo(path).Length, progress.BytesRead);
        Assert.Equal(3, progress.Records);
    }

    [Fact]
    public void A_line_between_the_limit_and_the_buffer_size_is_truncated_too()
    {
        string path = Write("mid.jsonl", Encoding.ASCII.GetBytes(new string('y', 5000) + "\n{}\n"));
        var records = new RecordFileReader(path, maxRecordBytes: 1000, oversizePrefixBytes: 10).Read().ToList();
        Assert.True(records[0].IsTruncated);
        Assert.Equal(5000, records[0].Length);
        Assert.False(records[1].IsTruncated);
    }

    [Fact]
    public void A_CSV_file_skips_its_header_and_carries_its_layout()
    {
        string path = Write("e.csv", Encoding.UTF8.GetBytes("userId,ts,type\nu-1,2026-11-22T10:04:11Z,view\n"));
        var records = new RecordFileReader(path, 1024).Read().ToList();
        var record = Assert.Single(records);
        Assert.NotNull(record.Csv);
        Assert.Equal(2L, record.Position.Offset);
    }

    [Fact]
    public void A_missing_file_fails_on_open_with_an_IO_error()
    {
        Assert.ThrowsAny<IOException>(() => new RecordFileReader(Path.Combine(_dir, "nope.jsonl"), 1024).Read().ToList());
    }
}
