using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>
/// One kind of alert output. Registered in <see cref="AlertOutputs"/> under its HOCON name; adding a sink is
/// one class implementing this, its test, and its HOCON block.
/// </summary>
public interface IAlertOutput
{
    AlertSinkKind Kind { get; }

    /// <summary>The name in <c>streamdetect.alerts.sink</c>.</summary>
    string Name { get; }

    /// <summary>Checks the run's options against this output; throws <c>UserInputException</c> naming the problem.</summary>
    void Validate(RunPlan plan);

    /// <summary>The output as a flow that passes each alert on once it has taken it (written and flushed, acknowledged).</summary>
    /// <param name="freshState">The run started from fresh state (a file output then starts anew).</param>
    Flow<AlertRecord, AlertRecord, NotUsed> Open(RunPlan plan, bool freshState, TextWriter log);

    /// <summary>
    /// Which of these alerts (from before a crash, journaled but never confirmed delivered) the output holds
    /// already; an output that cannot be read back answers none (they are written again).
    /// </summary>
    HashSet<string> AlreadyWritten(RunPlan plan, IReadOnlyCollection<string> alertIds);
}
