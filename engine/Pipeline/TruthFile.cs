using System.Text.Json;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// The per-user ground truth written beside generated traffic: a JSON object userId -> scenario name
/// (or "normal"). Used only to report detection quality per scenario; never seen by a model.
/// </summary>
public static class TruthFile
{
    /// <summary>The truth file for an event file, if one lies beside it (FILE.truth.json, or FILE without extension + .truth.json).</summary>
    public static string? FindBeside(string eventFile)
    {
        if (eventFile == "-") return null;
        string direct = eventFile + ".truth.json";
        if (File.Exists(direct)) return direct;
        string stem = Path.Combine(Path.GetDirectoryName(eventFile) ?? "", Path.GetFileNameWithoutExtension(eventFile)) + ".truth.json";
        return File.Exists(stem) ? stem : null;
    }

    /// <summary>Reads a truth file; throws <see cref="InvalidDataException"/> naming the file when it is not a JSON object of strings.</summary>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var map = JsonSerializer.Deserialize(stream, TruthJsonContext.Default.DictionaryStringString);
            return map ?? throw new InvalidDataException("it is JSON null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"truth file '{path}' is not a JSON object of userId -> scenario: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"truth file '{path}': {e.Message}", e);
        }
    }
}
