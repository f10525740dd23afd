using System.Text;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Tests.Parsing;

public sealed class EventParserTests
{
    private readonly EventParser _parser = new(ValidationSettings.Default);

    private DecodeResult Parse(string json) => _parser.ParseJson(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void A_full_event_in_the_design_format_is_read_field_by_field()
    {
        var result = Parse("""{"userId":"u-1842","ts":"2026-11-22T10:04:11.532Z","type":"cart","item":"sku-77","category":"c-3","amount":129.0,"query":null,"ip":"203.0.113.9","device":"ios","session":"s-91","label":0}""");

        var e = Assert.IsType<UserEvent>(result.Event);
        Assert.Equal("u-1842", e.UserId);
        Assert.Equal(new DateTime(2026, 11, 22, 10, 4, 11, 532, DateTimeKind.Utc), e.Time);
        Assert.Same(EventTypes.Cart, e.Type);
        Assert.Equal(("sku-77", "c-3", 129.0, null as string, "203.0.113.9", "ios", "s-91", 0),
            (e.Item, e.Category, e.Amount, e.Query, e.Ip, e.Device, e.Session, e.Label));
    }

    [Theory]
    [InlineData("""{"userId":"u","ts":1763805851,"type":"view"}""", 1763805851000L)]
    [InlineData("""{"userId":"u","ts":1763805851532,"type":"view"}""", 1763805851532L)]
    [InlineData("""{"userId":"u","ts":"2026-11-22T10:04:11+02:00","type":"view"}""", 1795334651000L)]
    [InlineData("""{"userId":"u","ts":"2026-11-22T10:04:11","type":"view"}""", 1795341851000L)]
    [InlineData("""{"userId":"u","ts":"2026-11-22T10:04:11.532Z","type":"view"}""", 1795341851532L)]
    public void Times_are_read_as_ISO_8601_or_epoch_seconds_or_milliseconds(string json, long expectedMs)
    {
        Assert.Equal(expectedMs, Parse(json).Event!.TimestampMs);
    }

    [Fact]
    public void Unknown_types_and_unknown_fields_are_accepted()
    {
        var e = Parse("""{"userId":"u","ts":"2026-11-22T10:04:11Z","type":"wishlist_share","extra":{"a":[1,2]}}""").Event!;
        Assert.Equal("wishlist_share", e.Type);
    }

    [Theory]
    [InlineData("not json", RejectionReason.MalformedJson)]
    [InlineData("""{"userId":"u","ts":"2026-11-22T10:04:11Z","type":"view" """, RejectionReason.MalformedJson)]
    [InlineData("""[1,2,3]""", RejectionReason.MalformedJson)]
    [InlineData("""null""", RejectionReason.MalformedJson)]
    [InlineData("""{"userId":42,"ts":"2026-11-22T10:04:11Z","type":"view"}""", RejectionReason.MalformedJson)]
    [InlineData("""{"ts":"2026-11-22T10:04:11Z","type":"view"}""", RejectionReason.MissingField)]
    [InlineData("""{"userId":"","ts":"2026-11-22T10:04:11Z","type":"view"}""", RejectionReason.MissingField)]
    [InlineData("""{"userId":"u","type":"view"}""", RejectionReason.MissingField)]
    [InlineData("""{"userId":"u","ts":"2026-11-22T10:04:11Z"}""", RejectionReason.MissingField)]
    [InlineData("""{"userId":"u","ts":"yesterday","type":"view"}""", RejectionReason.InvalidTimestamp)]
    [InlineData("""{"userId":"u","ts":"2026-13-45T99:00:00Z","type":"view"}""", RejectionReason.InvalidTimestamp)]
    [InlineData("""{"userId":"u","ts":"1970-01-01T00:00:00Z","type":"view"}""", RejectionReason.OutOfRange)]
    [InlineData("""{"userId":"u","ts":"9999-01-01T00:00:00Z","type":"view"}""", RejectionReason.OutOfRange)]
    [InlineData("""{"userId":"u","ts":"2026-11-22T10:04:11Z","type":"purchase","amount":-5}""", RejectionReason.OutOfRange)]
    [InlineData("""{"userId":"u","ts":"2026-11-22T10:04:11Z","type":"purchase","amount":1e300}""", RejectionReason.OutOfRange)]
    [InlineData("""{"userId":"u","ts":"2026-11-22T10:04:11Z","type":"view","label":7}""", RejectionReason.OutOfRange)]
    public void Bad_records_are_rejected_with_a_typed_reason(string json, RejectionReason reason)
    {
        var result = Parse(json);
        Assert.Null(result.Event);
        Assert.Equal(reason, result.Rejection!.Value.Reason);
        Assert.False(string.IsNullOrWhiteSpace(result.Rejection.Value.Detail));
    }

    [Fact]
    public void Bytes_that_are_not_UTF8_are_an_encoding_error()
    {
        var result = _parser.ParseJson(new byte[] { 0x7b, 0xff, 0xfe, 0x00, 0x7d });
        Assert.Equal(RejectionReason.InvalidEncoding, result.Rejection!.Value.Reason);
    }

    [Fact]
    public void An_overlong_field_is_out_of_range_and_names_the_field()
    {
        string user = new('x', 300);
        var result = Parse($$"""{"userId":"{{user}}","ts":"2026-11-22T10:04:11Z","type":"view"}""");
        Assert.Equal(RejectionReason.OutOfRange, result.Rejection!.Value.Reason);
        Assert.Contains("userId", result.Rejection.Value.Detail);
    }

    [Fact]
    public void Written_events_read_back_identically()
    {
        var original = new UserEvent("u-7", 1795341851532L, "purchase")
        {
            Item = "sku-1", Category = "c-2", Amount = 19.99, Query = "red \"shoes\"", Ip = "198.51.100.7", Device = "web", Session = "s-1", Label = 1,
        };
        var back = _parser.ParseJson(UserEventJson.ToUtf8(original)).Event!;
        Assert.Equal(
            (original.UserId, original.TimestampMs, original.Type, original.Item, original.Category, original.Amount, original.Query, original.Ip, original.Device, original.Session, original.Label),
            (back.UserId, back.TimestampMs, back.Type, back.Item, back.Category, back.Amount, back.Query, back.Ip, back.Device, back.Session, back.Label));
        Assert.Contains("\"ts\":\"2026-11-22T10:04:11.532Z\"", Encoding.UTF8.GetString(UserEventJson.ToUtf8(original)));
    }
}
