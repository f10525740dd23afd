using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>A JSON Lines or CSV file (or stdin), rejected records to the dead-letter file or counted.</summary>
public sealed class FileInput : IEventInput
{
    public EventSourceKind Kind => EventSourceKind.File;

    public string Name => "file";

    public bool SameOnEveryRun => false;

    public void Validate(RunPlan plan)
    {
        var request = plan.Request;
        if (request.Input is not { } input) throw new UserInputException("--source file needs --input FILE");
        if (input != "-" && !File.Exists(input)) throw new UserInputException($"input file '{input}' does not exist");
        if (input == "-" && request.ModelPath is null && !request.IngestOnly)
            throw new UserInputException("reading stdin needs --model (the run cannot train on a stream it reads once)");
        if (request.DeadLetterSink == Outputs.DeadLetterSinkKind.Kafka)
            throw new UserInputException("dead letters go to Kafka only with --source kafka; use --dead-letters FILE");
        if (input != "-") CheckFirstRecord(input, plan);
    }

    /// <summary>
    /// Reads the file's first record the way the run will, so that an unreadable file or an unusable CSV
    /// header is refused before any work (not when the stream, or training, reaches it).
    /// </summary>
    private static void CheckFirstRecord(string input, RunPlan plan)
    {
        try
        {
            _ = new RecordFileReader(input, plan.Validation.MaxRecordBytes, plan.DeadLetters.MaxRawBytes).Read().Take(1).Count();
        }
        catch (FormatException e)
        {
            throw new UserInputException($"input file '{input}': {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"input file '{input}' cannot be read: {e.Message}", e);
        }
    }

    public (IEnumerable<UserEvent> Events, long? CutMs) TrainingEvents(RunPlan plan) => (EventFile.Read(plan.Request.Input!, plan.Validation), null);

    public double? EvaluatedDays(RunPlan plan) => null;

    public OpenedInput Open(RunPlan plan, InputContext context)
    {
        string input = plan.Request.Input!;
        var reader = new RecordFileReader(input, plan.Validation.MaxRecordBytes, plan.DeadLetters.MaxRawBytes, FileSourceSettings.Create(plan.Config).BufferSize);
        var events = EventSources.FromFile(reader, context.Parser, Outputs.DeadLetterOutputs.ForRecords(plan), context.Progress);
        var truth = TruthFile.FindBeside(input) is { } truthPath ? TruthFile.Read(truthPath) : null;
        return new OpenedInput(events, input, truth);
    }
}
