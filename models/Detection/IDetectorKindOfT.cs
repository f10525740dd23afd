namespace StreamDetect.Models.Detection;

/// <summary>A detector kind with its hyper-parameter record typed; training reads them with
/// <see cref="Training.TrainingContext.HyperParameters{T}(IDetectorKind{T})"/>.</summary>
/// <typeparam name="THyperParameters">A record of get/init properties, one per HOCON key.</typeparam>
public interface IDetectorKind<THyperParameters> : IDetectorKind
    where THyperParameters : class
{
    /// <summary>The hyper-parameters used where the HOCON block does not set a key.</summary>
    new THyperParameters DefaultHyperParameters { get; }

    Type IDetectorKind.HyperParameterType => typeof(THyperParameters);

    object IDetectorKind.DefaultHyperParameters => DefaultHyperParameters;
}
