using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Configuration;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>Every alert output, by kind and by HOCON name: the one place that lists them.</summary>
public static class AlertOutputs
{
    private static readonly IAlertOutput[] All = [new StdoutAlertOutput(), new FileAlertOutput(), new KafkaAlertOutput(), new NoAlertOutput()];

    /// <summary>The names accepted by <c>streamdetect.alerts.sink</c> (besides <c>auto</c>).</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(o => o.Name).ToArray();

    public static IAlertOutput For(AlertSinkKind kind) => All.First(o => o.Kind == kind);

    /// <summary>The output named <paramref name="name"/>; a <see cref="UserInputException"/> naming <paramref name="setting"/> and the known names otherwise.</summary>
    public static IAlertOutput Named(string name, string setting) =>
        All.FirstOrDefault(o => o.Name == name) ?? throw new UserInputException($"{setting}: unknown alert sink '{name}' (known: auto, {string.Join(", ", Names)})");

    /// <summary>No output (benchmarks, tests): alerts are counted only.</summary>
    public static Flow<AlertRecord, AlertRecord, NotUsed> None() => Flow.Create<AlertRecord>();
}
