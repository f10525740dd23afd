using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Sources;

/// <summary>
/// One undecoded record as a source read it: a JSON line, a CSV row, or a Kafka record value.
/// </summary>
/// <param name="Bytes">The record's bytes (UTF-8 expected, not guaranteed). For an oversize record,
/// only a prefix is kept.</param>
/// <param name="Position">Where the record came from.</param>
/// <param name="Length">The record's full length in bytes (larger than <paramref name="Bytes"/> when truncated).</param>
/// <param name="Csv">The column layout of the CSV file the row came from; null for JSON records.</param>
public sealed record RawRecord(ReadOnlyMemory<byte> Bytes, SourcePosition Position, long Length, CsvLayout? Csv = null)
{
    /// <summary>Whether only a prefix of the record was kept because it exceeded the size limit.</summary>
    public bool IsTruncated => Length > Bytes.Length;
}
