using StreamDetect.Models.Detection;
using StreamDetect.Models.Persistence;

namespace StreamDetect.Models.Online;

/// <summary>
/// A private copy of a detector (its own modules and tensors, on the same device), made from its model file content:
/// what fine-tuning trains and what the gates score, so that the instance the stream scores with is never touched
/// (a detector takes one batch at a time).
/// </summary>
internal static class DetectorCopy
{
    public static AnomalyDetector Of(IAnomalyDetector detector)
    {
        if (detector is not AnomalyDetector source)
            throw new ArgumentException($"'{detector.Name}' is not a detector of this build and cannot be copied", nameof(detector));
        return FromBytes(source.ToFile().ToBytes(), $"{detector.Name}@{detector.Version}", detector.Device);
    }

    public static AnomalyDetector FromBytes(byte[] bytes, string origin, TorchSharp.torch.Device device) =>
        DetectorFile.Load(ModelFileReader.Parse(bytes, origin), device, DetectorRegistry.Default);
}
