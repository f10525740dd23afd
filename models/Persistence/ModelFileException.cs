namespace StreamDetect.Models.Persistence;

/// <summary>A model file that cannot be used: missing, truncated, corrupt, of another format version or
/// feature schema. The message names the file and the problem.</summary>
public sealed class ModelFileException(string path, string problem, Exception? inner = null)
    : Exception($"model file '{path}': {problem}", inner)
{
    public string Path { get; } = path;

    public string Problem { get; } = problem;
}
