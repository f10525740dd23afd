using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Configuration;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>A JSON Lines file or named pipe: whole lines, a fresh state starts it anew, a partial last line is cut.</summary>
public sealed class FileAlertOutput : IAlertOutput
{
    public AlertSinkKind Kind => AlertSinkKind.File;

    public string Name => "file";

    public void Validate(RunPlan plan)
    {
        if (plan.Request.AlertsPath is null) throw new UserInputException("streamdetect.alerts.sink = file needs --alerts FILE");
    }

    /// <summary>A file that fails while the run goes on (a full disk, a device) is named with its option: the run's catch-all for
    /// I/O errors would otherwise blame the input file.</summary>
    public Flow<AlertRecord, AlertRecord, NotUsed> Open(RunPlan plan, bool freshState, TextWriter log)
    {
        string path = plan.Request.AlertsPath!;
        return Flow.FromGraph(new AlertFileWriter(path, freshState, message => log.WriteLine(message)))
            .SelectError(e => WritableOutputFile.WriteFailed("--alerts", path, e) ?? e);
    }

    public HashSet<string> AlreadyWritten(RunPlan plan, IReadOnlyCollection<string> alertIds) => EmittedAlerts.InFile(plan.Request.AlertsPath!, alertIds);
}
