using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using TorchSharp;

namespace StreamDetect.Models.Detection;

/// <summary>Loads any saved detector (ensembles included) from its model file.</summary>
public static class DetectorFile
{
    /// <param name="path">The model file.</param>
    /// <param name="device">cpu, cuda, cuda:N or auto.</param>
    /// <exception cref="ModelFileException">The file is missing, truncated, corrupt, of another format or feature schema version, or of an unknown detector.</exception>
    public static IAnomalyDetector Load(string path, string device = "auto") => Load(path, ComputeDevice.Resolve(device));

    public static IAnomalyDetector Load(string path, torch.Device device, DetectorRegistry? registry = null) =>
        Load(ModelFileReader.Open(path), device, registry ?? DetectorRegistry.Default);

    internal static AnomalyDetector Load(ModelFileReader file, torch.Device device, DetectorRegistry registry)
    {
        if (file.FeatureSchemaVersion != FeatureSchema.Version)
            throw new ModelFileException(file.Path, $"was trained on feature schema version {file.FeatureSchemaVersion}; this build computes version {FeatureSchema.Version} (retrain the model)");
        if (!registry.TryGet(file.DetectorName, out var kind))
            throw new ModelFileException(file.Path, $"holds a '{file.DetectorName}' detector, which this build does not know (known: {string.Join(", ", registry.Names)})");
        try
        {
            return kind.Load(file, device);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or InvalidOperationException or FormatException)
        {
            throw new ModelFileException(file.Path, $"cannot be loaded as '{file.DetectorName}': {e.Message}", e);
        }
    }
}
