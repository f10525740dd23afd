using System.Text.RegularExpressions;

namespace StreamDetect.Engine.Tests.Deployment;

/// <summary>
/// The instruments the engine declares (every <c>Create...("streamdetect....", ...)</c> call in engine/ and stages/), with the
/// sample names the OpenTelemetry Prometheus exporter gives them: dots to underscores, the unit appended unless the name
/// holds it (annotations such as <c>{record}</c> and the unit <c>1</c> dropped, <c>s</c> as <c>seconds</c>),
/// <c>_total</c> on counters, <c>_bucket</c>/<c>_count</c>/<c>_sum</c> on histograms. The integration test
/// <c>DashboardMetricsProcessTests</c> compares those names with a real scrape.
/// </summary>
internal static partial class EngineInstruments
{
    public static IReadOnlyList<(string Instrument, string Unit, string Kind)> Declared(string repositoryRoot) =>
        new[] { "engine", "stages" }
            .SelectMany(project => Directory.GetFiles(Path.Combine(repositoryRoot, project), "*.cs", SearchOption.AllDirectories))
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                           && !file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(file => Declaration().Matches(File.ReadAllText(file)))
            .Select(m => (m.Groups["name"].Value, m.Groups["unit"].Value, m.Groups["kind"].Value))
            .Distinct()
            .ToList();

    /// <summary>Every sample name the declared instruments are exported as.</summary>
    public static IReadOnlySet<string> SampleNames(string repositoryRoot) =>
        Declared(repositoryRoot).SelectMany(i => SampleNames(i.Instrument, i.Unit, i.Kind)).ToHashSet(StringComparer.Ordinal);

    public static IEnumerable<string> SampleNames(string instrument, string unit, string kind)
    {
        string name = Regex.Replace(instrument, "[^A-Za-z0-9:]+", "_");
        string prometheusUnit = Regex.Replace(unit, @"\{[^}]*\}", "") switch
        {
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            "1" => "",
            var other => other,
        };
        if (prometheusUnit.Length > 0 && !name.Contains(prometheusUnit, StringComparison.Ordinal)) name += "_" + prometheusUnit;
        // No "_ratio" for gauges in unit "1": the specification's special case is not in the exporter served here
        // (OpenTelemetry.Exporter.Prometheus.HttpListener 1.20.1-beta.1 holds no "ratio" string); "1" is simply dropped.
        bool counter = kind is "Counter" or "ObservableCounter";
        if (counter && !name.Contains("total", StringComparison.Ordinal)) name += "_total";
        return kind == "Histogram" ? [name + "_bucket", name + "_count", name + "_sum"] : [name];
    }

    // _meter.CreateObservableCounter("streamdetect.events.received", () => ..., "{record}", ...)
    // _meter.CreateHistogram<double>("streamdetect.scorer.batch.duration", "s", ...)
    [GeneratedRegex(@"\.Create(?<kind>ObservableCounter|ObservableGauge|ObservableUpDownCounter|Counter|Histogram|Gauge|UpDownCounter)(?:<\w+>)?\(\s*""(?<name>streamdetect\.[^""]+)""\s*,(?:[^""]*?,)?\s*""(?<unit>[^""]*)""")]
    private static partial Regex Declaration();
}
