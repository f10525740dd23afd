using System.Buffers;
using System.Text.Json;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Alerts;

/// <summary>
/// An alert as one JSON object (a JSONL line, a Kafka record value with key = userId):
/// <c>{"alertId","userId","time","score","threshold","model","segment","scenario"?:{...},"context"?:{...},"reason":{...},"window":{...}}</c>
/// (README "The alert" documents every field).
/// </summary>
public static class AlertJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] ToUtf8(Alert alert, AlertSettings settings)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer, Options)) Write(w, alert, settings);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Utf8JsonWriter w, Alert a, AlertSettings settings)
    {
        w.WriteStartObject();
        w.WriteString("alertId"u8, a.AlertId);
        w.WriteString("userId"u8, a.UserId);
        WriteTime(w, "time"u8, a.WindowEndMs);
        w.WriteNumber("score"u8, Math.Round(a.Score, 4));
        w.WriteNumber("threshold"u8, Math.Round(a.Threshold, 4));
        w.WriteString("model"u8, a.Model);
        w.WriteString("segment"u8, a.Segment);
        if (a.SessionEnd) w.WriteBoolean("sessionEnd"u8, true);
        if (a.Scenario is { } scenario)
        {
            w.WriteStartObject("scenario"u8);
            w.WriteString("family"u8, scenario.Family);
            w.WriteString("rule"u8, scenario.Rule);
            w.WriteEndObject();
        }
        if (a.Context is { } context) WriteContext(w, context);
        w.WritePropertyName("reason"u8);
        WriteExplanation(w, a.Explanation, settings, depth: 0);
        w.WritePropertyName("window"u8);
        WriteWindow(w, a.Window);
        w.WriteEndObject();
    }

    private static void WriteExplanation(Utf8JsonWriter w, Explanation e, AlertSettings settings, int depth)
    {
        w.WriteStartObject();
        w.WriteString("model"u8, e.Model);
        w.WriteNumber("rawScore"u8, Math.Round(e.RawScore, 4));
        if (e.Decision.Length > 0) w.WriteString("decision"u8, e.Decision);
        if (e.UnexpectedEvents.Count > 0)
        {
            w.WriteStartArray("leastExpected"u8);
            foreach (var u in e.UnexpectedEvents.Take(settings.MaxUnexpectedEvents))
            {
                w.WriteStartObject();
                w.WriteString("type"u8, u.Type);
                WriteTime(w, "time"u8, u.TimestampMs);
                w.WriteNumber("surprise"u8, Math.Round(u.Surprise, 3));
                if (u.OutsideTopK is bool outside) w.WriteBoolean("outsideTopK"u8, outside);
                if (u.Expected.Count > 0) WriteExpected(w, u.Expected);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (e.SessionEnd is { } end)
        {
            // A verdict on a session end marker: why the session's end was (un)expected.
            w.WriteStartObject("sessionEnd"u8);
            w.WriteString("text"u8, end.Describe());
            if (end.EndedAfter is not null) w.WriteString("endedAfter"u8, end.EndedAfter);
            w.WriteNumber("pEnd"u8, Math.Round(end.EndProbability, 6));
            w.WriteStartArray("normalEndsAfter"u8);
            foreach (string type in end.NormalEndsAfter) w.WriteStringValue(type);
            w.WriteEndArray();
            WriteExpected(w, end.Expected);
            w.WriteEndObject();
        }
        if (e.Features.Count > 0)
        {
            w.WriteStartArray("features"u8);
            foreach (var f in e.Features.Take(settings.MaxFeatures))
            {
                w.WriteStartObject();
                w.WriteString("feature"u8, f.Feature);
                w.WriteNumber("value"u8, Math.Round(f.Value, 4));
                w.WriteNumber("share"u8, Math.Round(f.Share, 4));
                WriteFeatureInPlainTerms(w, f);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (e.Members.Count > 0 && depth == 0)
        {
            w.WriteStartArray("members"u8);
            foreach (var m in e.Members.OrderByDescending(m => m.Score))
            {
                w.WriteStartObject();
                w.WriteString("model"u8, m.Model);
                w.WriteNumber("score"u8, Math.Round(m.Score, 4));
                w.WritePropertyName("reason"u8);
                WriteExplanation(w, m.Explanation, settings, depth + 1);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// The feature for an analyst: its meaning and unit, its raw value (the vector holds log1p of counts,
    /// durations and amounts) and what the model's training events had (median, 99%, 99.9%), and all of it
    /// as one sentence.
    /// </summary>
    private static void WriteFeatureInPlainTerms(Utf8JsonWriter w, FeatureContribution f)
    {
        if (!FeatureDescriptions.TryOf(f.Feature, out var d)) return;
        double raw = d.Raw(f.Value);
        w.WriteString("meaning"u8, d.Meaning);
        w.WriteString("unit"u8, d.UnitText);
        w.WriteNumber("raw"u8, Math.Round(raw, 4));
        string text = $"{d.Meaning}: {d.Format(raw)}";
        if (f.Normal is { } normal)
        {
            double median = d.Raw(normal.Median);
            w.WriteStartObject("normal"u8);
            w.WriteNumber("median"u8, Math.Round(median, 4));
            if (normal.P99 is double p99) w.WriteNumber("p99"u8, Math.Round(d.Raw(p99), 4));
            if (normal.P999 is double p999)
            {
                w.WriteNumber("p99.9"u8, Math.Round(d.Raw(p999), 4));
                text += $" (normal users' events: median {d.Format(median)}, 99.9% at most {d.Format(d.Raw(p999))})";
            }
            else
            {
                text += $" (median of the model's training events: {d.Format(median)})";
            }
            w.WriteString("source"u8, normal.P999 is null ? "training median (model file without quantiles)" : "training events");
            w.WriteEndObject();
        }
        w.WriteString("text"u8, text);
    }

    private static void WriteContext(Utf8JsonWriter w, AlertContext c)
    {
        w.WriteStartObject("context"u8);
        if (c.Device is not null) w.WriteString("device"u8, c.Device);
        else w.WriteNull("device"u8);
        if (c.Ip is not null) w.WriteString("ip"u8, c.Ip);
        else w.WriteNull("ip"u8);
        w.WriteBoolean("newDevice"u8, c.NewDevice);
        w.WriteBoolean("newIp"u8, c.NewIp);
        w.WriteNumber("devicesSeen"u8, c.DevicesSeen);
        w.WriteNumber("ipsSeen"u8, c.IpsSeen);
        w.WriteEndObject();
    }

    private static void WriteWindow(Utf8JsonWriter w, AlertWindow window)
    {
        w.WriteStartObject();
        w.WriteNumber("events"u8, window.Events);
        w.WriteNumber("userEvents"u8, window.UserEvents);
        WriteTime(w, "from"u8, window.FromMs);
        WriteTime(w, "to"u8, window.ToMs);
        w.WriteStartObject("types"u8);
        foreach (var (type, count) in window.Types) w.WriteNumber(type, count);
        w.WriteEndObject();
        w.WriteStartArray("sequence"u8);
        foreach (string type in window.Sequence) w.WriteStringValue(type);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A model's expected next events, most likely first: "expected": [{type, p}].</summary>
    private static void WriteExpected(Utf8JsonWriter w, IReadOnlyList<ExpectedEvent> expected)
    {
        w.WriteStartArray("expected"u8);
        foreach (var x in expected)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, x.Type);
            w.WriteNumber("p"u8, Math.Round(x.Probability, 4));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteTime(Utf8JsonWriter w, ReadOnlySpan<byte> name, long ms)
    {
        Span<byte> time = stackalloc byte[32];
        w.WriteString(name, time[..UserEventJson.FormatTimestamp(ms, time)]);
    }
}
