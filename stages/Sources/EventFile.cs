using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Sources;

/// <summary>
/// Reads the valid events of a file synchronously (for offline work: training, evaluation, tools).
/// The streaming engine reads files through RecordFileSource instead.
/// </summary>
public static class EventFile
{
    /// <summary>Yields the file's valid events in file order; rejected records go to <paramref name="onRejected"/>.</summary>
    public static IEnumerable<UserEvent> Read(string path, ValidationSettings? settings = null, Action<DeadLetter>? onRejected = null)
    {
        settings ??= ValidationSettings.Default;
        var parser = new EventParser(settings);
        var reader = new RecordFileReader(path, settings.MaxRecordBytes);
        foreach (var raw in reader.Read())
        {
            switch (parser.Parse(raw))
            {
                case IngestedEvent ok:
                    yield return ok.Event;
                    break;
                case DeadLetter bad:
                    onRejected?.Invoke(bad);
                    break;
            }
        }
    }
}
