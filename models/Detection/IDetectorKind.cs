using StreamDetect.Models.Persistence;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Detection;

/// <summary>
/// A kind of detector the registry can train and load: one per model file. A kind owns its hyper-parameters:
/// their record type and defaults, read from the HOCON block <c>streamdetect.models.&lt;Name&gt;</c> (a
/// kebab-case key per property); implement <see cref="IDetectorKind{THyperParameters}"/>.
/// </summary>
public interface IDetectorKind
{
    /// <summary>The registry name: the HOCON block under <c>streamdetect.models</c>, <c>--model</c>, and the name in model files.</summary>
    string Name { get; }

    /// <summary>One line for help texts.</summary>
    string Description { get; }

    /// <summary>The record type of the kind's hyper-parameters.</summary>
    Type HyperParameterType { get; }

    /// <summary>The hyper-parameters used where the HOCON block does not set a key (an instance of <see cref="HyperParameterType"/>).</summary>
    object DefaultHyperParameters { get; }

    /// <summary>Trains a detector on the context's training users (uncalibrated: the trainer calibrates it).</summary>
    AnomalyDetector Train(TrainingContext context);

    /// <summary>Builds the detector from a checked model file.</summary>
    AnomalyDetector Load(ModelFileReader file, torch.Device device);
}
