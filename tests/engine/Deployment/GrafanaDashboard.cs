using System.Text.Json;
using System.Text.RegularExpressions;

namespace StreamDetect.Engine.Tests.Deployment;

/// <summary>docker/grafana/dashboards/streamdetect.json read as JSON: its panels and the PromQL each one queries.</summary>
internal sealed partial class GrafanaDashboard
{
    private GrafanaDashboard(JsonElement root) => Root = root;

    public JsonElement Root { get; }

    public static GrafanaDashboard Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        return new GrafanaDashboard(document.RootElement.Clone());
    }

    public IReadOnlyList<JsonElement> Panels => Root.GetProperty("panels").EnumerateArray().ToList();

    /// <summary>(panel title, expression) for every query of every panel.</summary>
    public IReadOnlyList<(string Panel, string Expression)> Queries =>
        Panels.SelectMany(panel => panel.GetProperty("targets").EnumerateArray()
                .Select(target => (panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!)))
            .ToList();

    /// <summary>The metric names an expression reads (every <c>streamdetect_...</c> token).</summary>
    public static IReadOnlyList<string> MetricNames(string expression) =>
        MetricName().Matches(expression).Select(match => match.Value).Distinct(StringComparer.Ordinal).ToList();

    [GeneratedRegex(@"\bstreamdetect_[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}
