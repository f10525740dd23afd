using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>Alerts are counted and go nowhere (benchmarks, tests).</summary>
public sealed class NoAlertOutput : IAlertOutput
{
    public AlertSinkKind Kind => AlertSinkKind.None;

    public string Name => "none";

    public void Validate(RunPlan plan)
    {
    }

    public Flow<AlertRecord, AlertRecord, NotUsed> Open(RunPlan plan, bool freshState, TextWriter log) => Flow.Create<AlertRecord>();

    public HashSet<string> AlreadyWritten(RunPlan plan, IReadOnlyCollection<string> alertIds) => [];
}
