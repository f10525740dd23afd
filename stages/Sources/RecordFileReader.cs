using System.Text;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Sources;

/// <summary>
/// Reads an event file (JSON Lines or CSV with a header, or headerless Taobao UserBehavior CSV) as
/// <see cref="RawRecord"/>s, one per non-blank line, with file:line positions; a UTF-8 byte-order mark
/// at the start of the file is skipped. Memory is bounded
/// whatever the input: a line longer than the record limit is skipped to its end and kept only as a
/// prefix, to become an "oversize" dead letter.
/// </summary>
public sealed class RecordFileReader
{
    private readonly string _path;
    private readonly int _maxRecordBytes;
    private readonly int _oversizePrefixBytes;
    private readonly int _bufferSize;

    /// <param name="path">The file, or "-" for standard input (JSON Lines only).</param>
    /// <param name="maxRecordBytes">Longest record kept whole (streamdetect.validation.max-record-bytes).</param>
    /// <param name="oversizePrefixBytes">How much of an oversize record is kept (streamdetect.dead-letters.max-raw-bytes).</param>
    /// <param name="bufferSize">Read buffer size (streamdetect.file-source.buffer-size).</param>
    public RecordFileReader(string path, int maxRecordBytes, int oversizePrefixBytes = 4096, int bufferSize = 1 << 20)
    {
        _path = path;
        _maxRecordBytes = maxRecordBytes;
        _oversizePrefixBytes = Math.Min(oversizePrefixBytes, maxRecordBytes);
        _bufferSize = Math.Max(bufferSize, maxRecordBytes + 2);
    }

    /// <summary>The file as given (used as the source name in positions).</summary>
    public string Path => _path;

    /// <summary>Whether the file is read as CSV (decided from its extension or its first line).</summary>
    public static bool LooksLikeCsv(string path, string? firstLine)
    {
        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".csv") return true;
        if (ext is ".jsonl" or ".json" or ".ndjson") return false;
        return firstLine is not null && !firstLine.TrimStart().StartsWith('{');
    }

    /// <summary>
    /// Reads the records. Throws <see cref="IOException"/> (or <see cref="UnauthorizedAccessException"/>)
    /// when the file cannot be opened, and <see cref="FormatException"/> when a CSV header is unusable.
    /// </summary>
    /// <param name="progress">Optional counters updated while reading.</param>
    public IEnumerable<RawRecord> Read(ReadProgress? progress = null)
    {
        Stream stream = _path == "-" ? Console.OpenStandardInput() : new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        if (progress is not null && stream.CanSeek) progress.TotalBytes = stream.Length;
        long epoch = stream.CanSeek ? Fingerprint(stream) : 0;
        return ReadFrom(stream, progress, epoch);
    }

    /// <summary>
    /// FNV-1a over the first 64 KiB: the file's identity for de-duplication. The same file re-read (or
    /// grown by appending) keeps it; a different file under the same name almost surely does not.
    /// </summary>
    private static long Fingerprint(Stream stream)
    {
        byte[] head = new byte[64 * 1024];
        int length = 0, read;
        while (length < head.Length && (read = stream.Read(head, length, head.Length - length)) > 0) length += read;
        stream.Position = 0;
        ulong hash = 14695981039346656037UL;
        for (int i = 0; i < length; i++) hash = (hash ^ head[i]) * 1099511628211UL;
        return (long)(hash | 1); // never 0, which means "no epoch"
    }

    private IEnumerable<RawRecord> ReadFrom(Stream stream, ReadProgress? progress, long epoch)
    {
        using var _ = stream;
        byte[] buffer = new byte[_bufferSize];
        int start = 0, end = 0;
        long line = 0;
        bool eof = false;
        CsvLayout? csv = null;
        bool formatDecided = false;

        while (true)
        {
            // Find the next line in [start, end).
            int newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            if (newline < 0 && !eof)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                if (end == buffer.Length)
                {
                    // A line longer than the buffer (and so than the record limit): keep a prefix, skip the rest.
                    line++;
                    var (prefix, length) = SkipOversize(stream, buffer, ref end, progress, out eof);
                    start = 0;
                    yield return new RawRecord(prefix, new SourcePosition(_path, 0, line, epoch), length, csv);
                    continue;
                }
                int read = stream.Read(buffer, end, buffer.Length - end);
                if (read == 0) eof = true;
                end += read;
                progress?.AddBytes(read);
                continue;
            }
            if (newline < 0 && start == end) break;

            int lineEnd = newline < 0 ? end : newline;
            int next = newline < 0 ? end : newline + 1;
            line++;
            int contentEnd = lineEnd > start && buffer[lineEnd - 1] == (byte)'\r' ? lineEnd - 1 : lineEnd;
            var span = new ReadOnlySpan<byte>(buffer, start, contentEnd - start);
            start = next;
            // A UTF-8 byte-order mark at the start of the file is not part of the first record.
            if (line == 1) span = EventParser.SkipByteOrderMark(span);
            if (IsBlank(span)) continue;

            if (!formatDecided)
            {
                formatDecided = true;
                string first = Encoding.UTF8.GetString(span.Length > 4096 ? span[..4096] : span);
                if (LooksLikeCsv(_path, first))
                {
                    csv = CsvLayout.Detect(first);
                    if (csv.HasHeader) continue;
                }
            }

            progress?.AddRecord();
            if (span.Length > _maxRecordBytes)
                yield return new RawRecord(span[.._oversizePrefixBytes].ToArray(), new SourcePosition(_path, 0, line, epoch), span.Length, csv);
            else
                yield return new RawRecord(span.ToArray(), new SourcePosition(_path, 0, line, epoch), span.Length, csv);
        }
    }

    private (byte[] Prefix, long Length) SkipOversize(Stream stream, byte[] buffer, ref int end, ReadProgress? progress, out bool eof)
    {
        byte[] prefix = buffer.AsSpan(0, _oversizePrefixBytes).ToArray();
        long length = end;
        eof = false;
        progress?.AddRecord();
        while (true)
        {
            int read = stream.Read(buffer, 0, buffer.Length);
            progress?.AddBytes(read);
            if (read == 0)
            {
                eof = true;
                end = 0;
                return (prefix, length);
            }
            int newline = Array.IndexOf(buffer, (byte)'\n', 0, read);
            if (newline >= 0)
            {
                length += newline;
                // Keep what follows the newline for the next records.
                Buffer.BlockCopy(buffer, newline + 1, buffer, 0, read - newline - 1);
                end = read - newline - 1;
                return (prefix, length);
            }
            length += read;
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> span)
    {
        foreach (byte b in span)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }
}
