using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>One JSON alert per line on stdout, flushed; stdout carries nothing else.</summary>
public sealed class StdoutAlertOutput : IAlertOutput
{
    public AlertSinkKind Kind => AlertSinkKind.Stdout;

    public string Name => "stdout";

    public void Validate(RunPlan plan)
    {
    }

    public Flow<AlertRecord, AlertRecord, NotUsed> Open(RunPlan plan, bool freshState, TextWriter log) =>
        Flow.FromGraph(new AlertFileWriter("stdout", Console.OpenStandardOutput));

    public HashSet<string> AlreadyWritten(RunPlan plan, IReadOnlyCollection<string> alertIds) => [];
}
