using StreamDetect.Models.Persistence;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Detection;

/// <summary>A kind of detector the registry can train and load: one per model file.</summary>
public interface IDetectorKind
{
    /// <summary>The registry name (also written into model files).</summary>
    string Name { get; }

    /// <summary>One line for help texts.</summary>
    string Description { get; }

    /// <summary>Trains a detector on the context's training users (uncalibrated: the trainer calibrates it).</summary>
    AnomalyDetector Train(TrainingContext context);

    /// <summary>Builds the detector from a checked model file.</summary>
    AnomalyDetector Load(ModelFileReader file, torch.Device device);
}
