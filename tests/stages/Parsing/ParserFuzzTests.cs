using System.Text;
using StreamDetect.Models.Events;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Tests.Parsing;

/// <summary>
/// The parse and validation paths are total: for any bytes, a record is a valid event (within the
/// configured bounds, writable in the wire format) or a rejection with a reason (writable as a dead
/// letter), and never an exception. The decoders are called directly here, below
/// <see cref="EventParser.Parse"/>'s safety net, so a decoder that throws fails these tests.
/// </summary>
public sealed class ParserFuzzTests
{
    private static readonly ValidationSettings Settings = ValidationSettings.Default;
    private readonly EventParser _parser = new(Settings);
    private static readonly CsvLayout Layout = CsvLayout.Detect("userId,ts,type,amount,label");

    /// <summary>Checks one decoder answer; returns it for further assertions.</summary>
    private static DecodeResult AssertTotal(Func<DecodeResult> decode, byte[] input, string what)
    {
        DecodeResult result;
        try
        {
            result = decode();
        }
        catch (Exception thrown)
        {
            throw new Xunit.Sdk.XunitException($"{what} threw {thrown.GetType().Name} ({thrown.Message}) on {Show(input)}");
        }
        Assert.True(result.Event is null != result.Rejection is null, $"{what}: exactly one of event and rejection for {Show(input)}");
        if (result.Event is UserEvent e)
        {
            Assert.InRange(e.TimestampMs, Settings.MinTimeMs, Settings.MaxTimeMs);
            if (e.Amount is double amount) Assert.True(double.IsFinite(amount) && amount >= Settings.MinAmount && amount <= Settings.MaxAmount, $"amount {amount} accepted from {Show(input)}");
            Assert.True(e.Label is null or 0 or 1);
            Assert.False(string.IsNullOrWhiteSpace(e.UserId));
            // Whatever was accepted can be written in the wire format and reads back at the same time.
            byte[] wire = UserEventJson.ToUtf8(e);
            Assert.Equal(e.TimestampMs, new EventParser(Settings).ParseJson(wire).Event?.TimestampMs);
        }
        else
        {
            var rejection = result.Rejection!.Value;
            Assert.NotEqual(RejectionReason.Unreadable, rejection.Reason);
            Assert.False(string.IsNullOrWhiteSpace(rejection.Detail), $"{what}: a rejection without detail for {Show(input)}");
            // And every rejection can be written as a dead letter.
            var letter = new DeadLetter(new RawRecord(input, new SourcePosition("fuzz", 0, 1), input.Length), rejection);
            Assert.NotEmpty(DeadLetterJson.ToUtf8(letter, 4096));
        }
        return result;
    }

    private static string Show(byte[] input) =>
        System.Text.Unicode.Utf8.IsValid(input) ? $"'{Encoding.UTF8.GetString(input)}'" : $"bytes {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 200)))}";

    private DecodeResult Json(byte[] input) => AssertTotal(() => _parser.ParseJson(input), input, "JSON decoder");

    private DecodeResult Csv(byte[] input) => AssertTotal(() => Layout.Decode(input, _parser), input, "CSV decoder");

    [Fact]
    public void Every_numeric_edge_of_ts_amount_and_label_in_JSON_is_an_event_or_a_rejection()
    {
        int events = 0, rejected = 0;
        foreach (string json in RecordEdgeCases.NumericEdgeJson())
        {
            var result = Json(Encoding.UTF8.GetBytes(json));
            if (result.Event is null) rejected++; else events++;
        }
        // Both outcomes occur: the edges straddle the accepted ranges.
        Assert.True(events > 10 && rejected > 100, $"{events} events, {rejected} rejected");
    }

    [Fact]
    public void Every_numeric_edge_of_ts_amount_and_label_in_CSV_is_an_event_or_a_rejection()
    {
        int events = 0, rejected = 0;
        foreach (string row in RecordEdgeCases.NumericEdgeCsv())
        {
            var result = Csv(Encoding.UTF8.GetBytes(row));
            if (result.Event is null) rejected++; else events++;
        }
        Assert.True(events > 5 && rejected > 80, $"{events} events, {rejected} rejected");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_bytes_are_an_event_or_a_rejection_in_both_formats(int seed)
    {
        foreach (byte[] input in RecordEdgeCases.RandomBytes(seed, 4000))
        {
            Json(input);
            Csv(input);
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Mutated_valid_JSON_records_are_an_event_or_a_rejection(int seed)
    {
        int events = 0;
        foreach (byte[] input in RecordEdgeCases.Mutations(RecordEdgeCases.ValidJson, seed, 10_000))
            if (Json(input).Event is not null) events++;
        Assert.InRange(events, 1, 9_999);
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public void Mutated_valid_CSV_rows_are_an_event_or_a_rejection(int seed)
    {
        string[] valid = ["u-1,1763805851,view,,", "u-2,2026-11-22T10:04:11.532Z,purchase,19.99,1", "\"u,3\",1763805851532,cart,\"1,5\",0"];
        foreach (byte[] input in RecordEdgeCases.Mutations(valid, seed, 10_000))
            Csv(input);
    }

    [Theory]
    [InlineData("1e15")]
    [InlineData("1E15")]
    [InlineData("3.99e15")]
    [InlineData("253402300800000")]
    [InlineData("-1e15")]
    [InlineData("-100000000000000")]
    [InlineData("-62135596800001")]
    [InlineData("99999999999")]   // epoch seconds: the year 5138
    [InlineData("-99999999999")]
    [InlineData("\"1e15\"")]
    [InlineData("\"9999-12-31T23:59:59.9999999Z\"")]
    [InlineData("\"0001-01-01T00:00:00Z\"")]
    public void A_far_epoch_ts_is_out_of_range_and_its_rejection_describes_it(string ts)
    {
        var result = Json(Encoding.UTF8.GetBytes(RecordEdgeCases.JsonWith(ts)));
        Assert.Equal(RejectionReason.OutOfRange, result.Rejection!.Value.Reason);
        Assert.Contains("outside the accepted range", result.Rejection.Value.Detail);

        var row = Csv(Encoding.UTF8.GetBytes($"u,{ts.Trim('"')},view,,"));
        Assert.Equal(RejectionReason.OutOfRange, row.Rejection!.Value.Reason);
    }

    [Theory]
    [InlineData("1e16")]
    [InlineData("-4.1e15")]
    [InlineData("9223372036854775808")]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("\"10000-01-01T00:00:00Z\"")]
    [InlineData("\"0000-01-01T00:00:00Z\"")]
    [InlineData("\"2026-02-30T00:00:00Z\"")]
    public void A_ts_beyond_any_representable_time_is_an_invalid_timestamp(string ts)
    {
        var result = Json(Encoding.UTF8.GetBytes(RecordEdgeCases.JsonWith(ts)));
        Assert.Equal(RejectionReason.InvalidTimestamp, result.Rejection!.Value.Reason);

        var row = Csv(Encoding.UTF8.GetBytes($"u,{ts.Trim('"')},view,,"));
        Assert.Equal(RejectionReason.InvalidTimestamp, row.Rejection!.Value.Reason);
    }

    [Theory]
    [InlineData("1e400", RejectionReason.OutOfRange)]            // reads as infinity
    [InlineData("-1e400", RejectionReason.OutOfRange)]
    [InlineData("\"NaN\"", RejectionReason.MalformedJson)]       // strict number handling: no numbers in strings
    [InlineData("10000000.000001", RejectionReason.OutOfRange)]
    [InlineData("-0.01", RejectionReason.OutOfRange)]
    [InlineData("1.7976931348623157e308", RejectionReason.OutOfRange)]
    public void An_amount_at_the_edges_is_rejected_in_JSON(string amount, RejectionReason reason)
    {
        var result = Json(Encoding.UTF8.GetBytes(RecordEdgeCases.JsonWith("1763805851", amount)));
        Assert.Equal(reason, result.Rejection!.Value.Reason);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e300")]
    [InlineData("-1")]
    public void An_amount_at_the_edges_is_out_of_range_in_CSV(string amount)
    {
        var result = Csv(Encoding.UTF8.GetBytes($"u,1763805851,purchase,{amount},"));
        Assert.Equal(RejectionReason.OutOfRange, result.Rejection!.Value.Reason);
    }

    [Fact]
    public void A_lone_surrogate_escape_is_malformed_JSON_not_an_exception()
    {
        var result = Json(Encoding.UTF8.GetBytes("""{"userId":"\ud800","ts":1763805851,"type":"view"}"""));
        Assert.Equal(RejectionReason.MalformedJson, result.Rejection!.Value.Reason);
    }

    [Fact]
    public void A_byte_order_mark_at_the_start_of_a_record_is_skipped_in_both_formats()
    {
        byte[] bom = [0xEF, 0xBB, 0xBF];
        var json = Json([.. bom, .. Encoding.UTF8.GetBytes("""{"userId":"u","ts":1763805851,"type":"view"}""")]);
        Assert.Equal("u", json.Event!.UserId);
        var row = Csv([.. bom, .. Encoding.UTF8.GetBytes("u,1763805851,view,,")]);
        Assert.Equal("u", row.Event!.UserId);
        Assert.Equal("u", CsvLayout.Detect("\uFEFFuserId,ts,type").Decode("u,1763805851,view"u8, _parser).Event!.UserId);
    }

    [Theory]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    [InlineData(-62135596800001L)]
    [InlineData(253402300800000L)]
    [InlineData(0L)]
    public void Describing_any_time_never_throws(long epochMs)
    {
        Assert.False(string.IsNullOrEmpty(EventParser.DescribeTime(epochMs)));
    }

    [Fact]
    public void Parse_turns_every_generated_input_into_an_event_or_a_dead_letter_of_a_known_reason()
    {
        // The whole stage, as the sources call it, over every generator at once.
        var inputs = RecordEdgeCases.NumericEdgeJson().Select(Encoding.UTF8.GetBytes)
            .Concat(RecordEdgeCases.RandomBytes(31, 2000))
            .Concat(RecordEdgeCases.Mutations(RecordEdgeCases.ValidJson, 32, 2000));
        foreach (byte[] input in inputs)
        {
            foreach (var raw in new[] { new RawRecord(input, new SourcePosition("f", 0, 1), input.Length), new RawRecord(input, new SourcePosition("f", 0, 1), input.Length, Layout) })
            {
                var parsed = _parser.Parse(raw);
                if (parsed is DeadLetter letter) Assert.NotEqual(RejectionReason.Unreadable, letter.Rejection.Reason);
                else Assert.IsType<IngestedEvent>(parsed);
            }
        }
    }
}
