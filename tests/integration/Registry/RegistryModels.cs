using StreamDetect.Engine.Registry;
using StreamDetect.Integration.Tests.Scoring;

namespace StreamDetect.Integration.Tests.Registry;

/// <summary>Three small zscore models (different seeds, so three versions), trained once for a test class, as model file bytes.
/// Each save goes to a file of its own: test classes build this fixture in parallel in one process.</summary>
public sealed class RegistryModels
{
    public RegistryModels()
    {
        Files = [.. new[] { 4, 5, 6 }.Select(seed =>
        {
            using var detector = QuickModel.Train("zscore", users: 150, days: 2, seed: seed);
            string path = Path.Combine(Path.GetTempPath(), $"sd-registry-model-{seed}-{Guid.NewGuid():N}.sdm");
            detector.Save(path);
            byte[] bytes = File.ReadAllBytes(path);
            File.Delete(path);
            return bytes;
        })];
        Ids = [.. Files.Select(f => ModelRegistry.ContentId(f))];
    }

    public IReadOnlyList<byte[]> Files { get; }

    public IReadOnlyList<string> Ids { get; }
}
