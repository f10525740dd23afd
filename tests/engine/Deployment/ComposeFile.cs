using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace StreamDetect.Engine.Tests.Deployment;

/// <summary>
/// docker/docker-compose.yml read with a YAML parser (merge keys such as <c>&lt;&lt;: *engine</c> resolved),
/// with the few accessors the deployment tests need. No Docker engine is involved.
/// </summary>
internal sealed class ComposeFile
{
    private readonly Dictionary<object, object> _root;

    private ComposeFile(Dictionary<object, object> root, string repositoryRoot)
    {
        _root = root;
        RepositoryRoot = repositoryRoot;
    }

    public string RepositoryRoot { get; }

    public static ComposeFile Load()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "StreamDetect.sln")))
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        return Parse(File.ReadAllText(Path.Combine(root, "docker", "docker-compose.yml")), root);
    }

    public static ComposeFile Parse(string yaml, string repositoryRoot)
    {
        using var reader = new StringReader(yaml);
        var parser = new MergingParser(new Parser(reader));
        var root = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(parser)
            ?? throw new InvalidDataException("the compose file is empty");
        return new ComposeFile(root, repositoryRoot);
    }

    public IReadOnlyDictionary<string, Dictionary<object, object>> Services =>
        Map(_root, "services").ToDictionary(pair => (string)pair.Key, pair => (Dictionary<object, object>)pair.Value);

    public IReadOnlyCollection<string> NamedVolumes =>
        _root.TryGetValue("volumes", out var volumes) && volumes is Dictionary<object, object> map
            ? map.Keys.Cast<string>().ToList()
            : [];

    /// <summary>The services that run the engine: their command is <c>streamdetect run ...</c>.</summary>
    public IReadOnlyList<string> EngineServices =>
        Services.Where(service => Command(service.Key) is ["run", ..]).Select(service => service.Key).ToList();

    public IReadOnlyList<string> Command(string service) => Strings(Services[service], "command");

    public IReadOnlyList<string> Entrypoint(string service) => Strings(Services[service], "entrypoint");

    /// <summary>depends_on in its long form: dependency -> condition (the short form has none and yields "").</summary>
    public IReadOnlyDictionary<string, string> DependsOn(string service)
    {
        if (!Services[service].TryGetValue("depends_on", out var value)) return new Dictionary<string, string>();
        return value switch
        {
            List<object> names => names.Cast<string>().ToDictionary(name => name, _ => ""),
            Dictionary<object, object> map => map.ToDictionary(
                pair => (string)pair.Key,
                pair => pair.Value is Dictionary<object, object> options && options.TryGetValue("condition", out var c) ? (string)c : ""),
            _ => throw new InvalidDataException($"services.{service}.depends_on is neither a list nor a map"),
        };
    }

    /// <summary>The service's volume mounts in short form <c>SOURCE:TARGET[:MODE]</c>.</summary>
    public IReadOnlyList<(string Source, string Target, bool ReadOnly)> Volumes(string service) =>
        Strings(Services[service], "volumes").Select(mount =>
        {
            var parts = mount.Split(':');
            return (parts[0], parts[1], parts.Length > 2 && parts[2] == "ro");
        }).ToList();

    public IReadOnlyList<string>? HealthCheck(string service) =>
        Services[service].TryGetValue("healthcheck", out var value) && value is Dictionary<object, object> check
            ? Strings(check, "test")
            : null;

    /// <summary>The service's published ports in short form <c>HOST:CONTAINER</c>.</summary>
    public IReadOnlyList<string> Ports(string service) => Strings(Services[service], "ports");

    public string? Value(string service, string key) =>
        Services[service].TryGetValue(key, out var value) ? value as string : null;

    public string? Environment(string service, string name) =>
        Services[service].TryGetValue("environment", out var value) && value is Dictionary<object, object> map && map.TryGetValue(name, out var v)
            ? v as string
            : null;

    private static Dictionary<object, object> Map(Dictionary<object, object> node, string key) =>
        node.TryGetValue(key, out var value) && value is Dictionary<object, object> map
            ? map
            : throw new InvalidDataException($"'{key}' is missing or not a map");

    private static IReadOnlyList<string> Strings(Dictionary<object, object> node, string key) =>
        node.TryGetValue(key, out var value) switch
        {
            false => [],
            true when value is List<object> list => list.Select(item => (string)item).ToList(),
            true when value is string text => [text],
            _ => throw new InvalidDataException($"'{key}' is neither a string nor a list"),
        };
}
