using StreamDetect.Engine.Persistence;
using StreamDetect.Models.Detection;

namespace StreamDetect.Engine.Registry;

/// <summary>
/// What `run` and `train --data-dir` do with the model they trained or loaded: register it as a version
/// (a no-op when it is registered already) and make it the champion when the registry has none yet, so a
/// data directory's registry always starts from the model its first run scored with.
/// </summary>
public static class StartupRegistration
{
    /// <returns>The version as stored (its status says whether it became the champion).</returns>
    public static ModelVersion Register(StoreSettings store, IAnomalyDetector detector, OriginDetail detail, TextWriter log)
    {
        var registry = ModelRegistry.Open(store);
        var (version, added) = registry.Register(detector, VersionRegistration.Trained(detail));
        bool crowned = registry.PromoteIfNoChampion(version.Id, "the registry's first model");
        var champion = registry.Champion()!;
        string registered = added ? "registered as a candidate" : $"already registered ({RegistryNames.Of(version.Status)})";
        string standing = crowned ? "it is the champion (the registry's first model)" : champion.Id == version.Id ? "it is the champion" : $"the champion stays {champion.Name}@{champion.Id}";
        log.WriteLine($"model registry: {version.Name}@{version.Id} {registered} in {registry.Store}; {standing}");
        return crowned ? registry.Require(version.Id) : version;
    }
}
