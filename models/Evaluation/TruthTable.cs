using System.Text.Json;

namespace StreamDetect.Models.Evaluation;

/// <summary>
/// The scenario of each user, from a truth file (<c>FILE.truth.json</c> beside the data: a JSON object
/// userId → scenario name or "normal"). Users the file does not list are "normal".
/// </summary>
public sealed class TruthTable
{
    public const string Normal = "normal";

    private readonly Dictionary<string, string> _scenarios;

    public TruthTable(IReadOnlyDictionary<string, string> scenarios) =>
        _scenarios = new Dictionary<string, string>(scenarios, StringComparer.Ordinal);

    public static TruthTable Empty { get; } = new(new Dictionary<string, string>());

    public int Count => _scenarios.Count;

    /// <summary>The truth file beside a data file: <c>data.jsonl</c> → <c>data.jsonl.truth.json</c>.</summary>
    public static string PathFor(string dataPath) => dataPath + ".truth.json";

    public static TruthTable Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var map = JsonSerializer.Deserialize<Dictionary<string, string>>(stream)
                ?? throw new InvalidDataException("the file holds null");
            return new TruthTable(map);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"truth file '{path}' is not a JSON object of userId -> scenario: {e.Message}", e);
        }
    }

    public string ScenarioOf(string userId) => _scenarios.TryGetValue(userId, out string? scenario) ? scenario : Normal;

    /// <summary>The scenarios named, normal excluded, sorted.</summary>
    public IReadOnlyList<string> Scenarios =>
        _scenarios.Values.Where(s => s != Normal).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
}
