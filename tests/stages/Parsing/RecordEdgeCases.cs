using System.Text;

namespace StreamDetect.Stages.Tests.Parsing;

/// <summary>
/// Generated input for the parser fuzz tests: the numeric edges of <c>ts</c> and <c>amount</c>, valid
/// records, their mutations and random bytes. Everything is drawn from seeded generators, so a failure
/// reproduces with the seed printed in its message.
/// </summary>
public static class RecordEdgeCases
{
    /// <summary>
    /// <c>ts</c> values as JSON number literals: every magnitude of epoch seconds and milliseconds,
    /// the limits of <see cref="DateTime"/> (years 1 and 9999) and of <see cref="long"/>, the parser's
    /// own 4e15 cut-off, negatives, fractions, and doubles that overflow or underflow.
    /// </summary>
    public static IReadOnlyList<string> TimestampNumbers { get; } =
    [
        "0", "-0", "1", "-1", "0.5", "-0.5", "1e-7", "4.9e-324", "-4.9e-324",
        "946684800", "1763805851", "1763805851.5", "1763805851.999999", "99999999999", "-99999999999",
        "100000000000", "-100000000000", "946684800000", "1763805851532", "1763805851532.7", "4102444800000", "4102444800001",
        "1e10", "1e11", "1e12", "1e13", "1e14", "2e14",
        "253402300799999", "253402300800000", "253402300800001", // the last millisecond DateTime holds, and past it
        "-62135596800000", "-62135596800001", "-62135596800", "-62135596801", // year 1, in ms and in s
        "-100000000000000", "-1e15", "1e15", "1E15", "1.0e15", "3.99e15", "4e15", "4.000000000000001e15", "-4e15", "-4.1e15", "1e16",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "9.3e18", "1e19",
        "1e300", "-1e300", "1.7976931348623157e308", "-1.7976931348623157e308", "1e308", "1e309", "1e400", "-1e400", "1e-400",
        "123456789012345678901234567890",
    ];

    /// <summary><c>ts</c> values that are only valid as JSON strings (or CSV cells): ISO times at and past the calendar's ends, words, numbers in text.</summary>
    public static IReadOnlyList<string> TimestampTexts { get; } =
    [
        "", " ", "NaN", "-NaN", "nan", "Infinity", "-Infinity", "+Infinity", "inf", "\u221e", "1e400", "-1e400", "1e15", "0x10", "1_000", "1,5", "١٢٣",
        "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00-14:00", "0001-01-01T00:00:00",
        "9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59+14:00",
        "10000-01-01T00:00:00Z", "+010000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "99999-01-01",
        "2026-02-30T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:04:60Z", "2026-11-22T10:04:11.532+15:00", "2026-11-22T10:04:11.532+14:00",
        "2026-11-22T10:04:11.1234567891Z", "2026-11-22", "2026-11-22T10:04:11Z garbage", "2026-11-22T10:04:11ZZ", "T", "Z", "+", "-",
        "1970-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "2099-12-31T23:59:59.999Z", "2100-01-01T00:00:00.001Z",
    ];

    /// <summary><c>amount</c> values as JSON number literals.</summary>
    public static IReadOnlyList<string> AmountNumbers { get; } =
    [
        "0", "-0", "0.01", "-0.01", "-1", "129.0", "9999999.99", "10000000", "10000000.000001", "1e7", "1e15", "1e300", "-1e300",
        "1.7976931348623157e308", "1e308", "1e309", "1e400", "-1e400", "4.9e-324", "1e-400", "123456789012345678901234567890",
    ];

    /// <summary><c>amount</c> values that are only text (CSV cells, or JSON strings that strict number handling refuses).</summary>
    public static IReadOnlyList<string> AmountTexts { get; } =
        ["NaN", "-NaN", "Infinity", "-Infinity", "\u221e", "-\u221e", "1e400", "0x10", "1,5", "", " ", "1 000", "12.5.1", "--1"];

    /// <summary>Valid records of the design's JSON format (the seeds for mutation).</summary>
    public static IReadOnlyList<string> ValidJson { get; } =
    [
        """{"userId":"u-1842","ts":"2026-11-22T10:04:11.532Z","type":"cart","item":"sku-77","category":"c-3","amount":129.0,"query":null,"ip":"203.0.113.9","device":"ios","session":"s-91","label":0}""",
        """{"userId":"u","ts":1763805851,"type":"view"}""",
        """{"userId":"u","ts":1763805851532,"type":"purchase","amount":19.99,"label":1}""",
        """{"userId":"ü-ß","ts":"2026-11-22T10:04:11+02:00","type":"search","query":"red \"shoes\" \u00e9"}""",
    ];

    /// <summary>A JSON record with <paramref name="ts"/> and <paramref name="amount"/> spliced in as raw JSON tokens.</summary>
    public static string JsonWith(string ts, string? amount = null) =>
        amount is null
            ? $$"""{"userId":"u","ts":{{ts}},"type":"purchase"}"""
            : $$"""{"userId":"u","ts":"2026-11-22T10:04:11Z","type":"purchase","amount":{{amount}}}""";

    /// <summary>A JSON string literal of <paramref name="text"/>.</summary>
    public static string Quoted(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    /// <summary>Every JSON record the timestamp and amount edges give (as numbers and as strings).</summary>
    public static IEnumerable<string> NumericEdgeJson()
    {
        foreach (string ts in TimestampNumbers) { yield return JsonWith(ts); yield return JsonWith(Quoted(ts)); }
        foreach (string ts in TimestampTexts) yield return JsonWith(Quoted(ts));
        foreach (string other in new[] { "true", "false", "null", "{}", "[]", "[1763805851]", "{\"$date\":1}" }) yield return JsonWith(other);
        foreach (string amount in AmountNumbers) { yield return JsonWith("1763805851", amount); yield return JsonWith("1763805851", Quoted(amount)); }
        foreach (string amount in AmountTexts) yield return JsonWith("1763805851", Quoted(amount));
        foreach (string label in new[] { "0", "1", "2", "-1", "1.0", "1e400", "2147483648", "\"1\"", "true" })
            yield return $$"""{"userId":"u","ts":1763805851,"type":"view","label":{{label}}}""";
        // Escapes that do not decode to valid UTF-16 (lone surrogates), and a byte-order mark inside a value.
        yield return """{"userId":"\ud800","ts":1763805851,"type":"view"}""";
        yield return """{"userId":"u","ts":"\udfff","type":"view"}""";
        yield return """{"userId":"u","ts":"2026-11-22T10:04:11\ud800Z","type":"view"}""";
        yield return """{"userId":"u","ts":1763805851,"type":"\ud83d"}""";
        yield return "{\"userId\":\"\uFEFFu\",\"ts\":1763805851,\"type\":\"view\"}";
    }

    /// <summary>Every CSV row (for the header "userId,ts,type,amount,label") the timestamp and amount edges give.</summary>
    public static IEnumerable<string> NumericEdgeCsv()
    {
        foreach (string ts in TimestampNumbers.Concat(TimestampTexts)) { yield return $"u,{Cell(ts)},view,,"; }
        foreach (string amount in AmountNumbers.Concat(AmountTexts)) yield return $"u,1763805851,purchase,{Cell(amount)},";
        foreach (string label in new[] { "0", "1", "2", "-1", "1.0", "1e400", "2147483648", "x" }) yield return $"u,1763805851,view,,{label}";
    }

    private static string Cell(string text) => text.Contains(',') || text.Contains('"') ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;

    /// <summary>Random byte strings: uniform bytes, printable ASCII with JSON/CSV punctuation, and UTF-8 fragments.</summary>
    public static IEnumerable<byte[]> RandomBytes(int seed, int count)
    {
        var random = new Random(seed);
        byte[] alphabet = Encoding.UTF8.GetBytes("{}[]\":,.-+eE0123456789 \t\\nulltruefalse\"userId\"ts\"type\"amount\r\uFEFF\u00e9\ud83d\ude00");
        for (int i = 0; i < count; i++)
        {
            byte[] bytes = new byte[random.Next(0, 200)];
            switch (i % 3)
            {
                case 0:
                    random.NextBytes(bytes);
                    break;
                case 1:
                    for (int j = 0; j < bytes.Length; j++) bytes[j] = alphabet[random.Next(alphabet.Length)];
                    break;
                default:
                    for (int j = 0; j < bytes.Length; j++) bytes[j] = (byte)random.Next(0x20, 0x7f);
                    break;
            }
            yield return bytes;
        }
    }

    /// <summary>
    /// Mutations of <paramref name="valid"/>: bytes flipped, inserted, deleted, duplicated, the record cut
    /// short, a BOM or NUL put in, a number's digits replaced by an edge value.
    /// </summary>
    public static IEnumerable<byte[]> Mutations(IReadOnlyList<string> valid, int seed, int count)
    {
        var random = new Random(seed);
        byte[][] interesting = TimestampNumbers.Concat(AmountNumbers).Concat(["\"", "\\", "\\u", "\\ud800", "{", "}", ",", ":", "\0", "\uFEFF", "\u00ff", "null"])
            .Select(Encoding.UTF8.GetBytes).ToArray();
        for (int i = 0; i < count; i++)
        {
            var bytes = new List<byte>(Encoding.UTF8.GetBytes(valid[random.Next(valid.Count)]));
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits && bytes.Count > 0; e++)
            {
                int at = random.Next(bytes.Count);
                switch (random.Next(7))
                {
                    case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                    case 1: bytes.Insert(at, (byte)random.Next(256)); break;
                    case 2: bytes.RemoveAt(at); break;
                    case 3: bytes.RemoveRange(at, bytes.Count - at); break;
                    case 4: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(bytes.Count - at, 1 + random.Next(12)))); break;
                    case 5: bytes.InsertRange(at, interesting[random.Next(interesting.Length)]); break;
                    default:
                        // Replace a run of digits with an edge number.
                        int start = bytes.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                        if (start < 0) break;
                        int end = start;
                        while (end < bytes.Count && bytes[end] is >= (byte)'0' and <= (byte)'9' or (byte)'.') end++;
                        bytes.RemoveRange(start, end - start);
                        bytes.InsertRange(start, Encoding.UTF8.GetBytes(TimestampNumbers[random.Next(TimestampNumbers.Count)]));
                        break;
                }
            }
            yield return bytes.ToArray();
        }
    }
}
