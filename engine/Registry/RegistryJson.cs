using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StreamDetect.Engine.Registry;

/// <summary>The JSON columns of <c>model_versions</c>: <c>origin_detail</c> (an object) and <c>gates</c> (a list).</summary>
internal static class RegistryJson
{
    public static string Detail(OriginDetail detail)
    {
        var node = new JsonObject();
        if (detail.Samples is long samples) node["samples"] = samples;
        if (detail.EventsFrom is { } from) node["eventsFrom"] = Time(from);
        if (detail.EventsUntil is { } until) node["eventsUntil"] = Time(until);
        if (detail.Steps is int steps) node["steps"] = steps;
        if (detail.Source is { } source) node["source"] = source;
        return node.ToJsonString();
    }

    public static OriginDetail ParseDetail(string json)
    {
        var node = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException("origin_detail is not a JSON object");
        return new OriginDetail(
            node["samples"]?.GetValue<long>(),
            node["eventsFrom"] is { } from ? DateTimeOffset.Parse(from.GetValue<string>(), CultureInfo.InvariantCulture) : null,
            node["eventsUntil"] is { } until ? DateTimeOffset.Parse(until.GetValue<string>(), CultureInfo.InvariantCulture) : null,
            node["steps"]?.GetValue<int>(),
            node["source"]?.GetValue<string>());
    }

    public static string Gates(IReadOnlyList<RecordedGate> gates)
    {
        var list = new JsonArray();
        foreach (var gate in gates)
            list.Add(new JsonObject { ["gate"] = gate.Gate, ["value"] = Finite(gate.Value), ["bound"] = Finite(gate.Bound), ["passed"] = gate.Passed });
        return list.ToJsonString();
    }

    /// <summary>A gate figure as stored: null when it is not a finite number (a gate not measured, e.g. canary recall
    /// without canaries, is NaN; JSON has no NaN, and writing it threw, which lost the candidate); read back as NaN.</summary>
    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static double Figure(JsonNode? node) => node is null ? double.NaN : node.GetValue<double>();

    public static IReadOnlyList<RecordedGate> ParseGates(string json)
    {
        var list = JsonNode.Parse(json)?.AsArray() ?? throw new InvalidDataException("gates is not a JSON list");
        return list.Select(g => new RecordedGate(
            g!["gate"]!.GetValue<string>(), Figure(g["value"]), Figure(g["bound"]), g["passed"]!.GetValue<bool>())).ToList();
    }

    /// <summary>UTC, millisecond precision, sortable as text.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
