namespace StreamDetect.Engine.Registry;

/// <summary>One row of <c>model_versions</c> (the model bytes are read apart: <see cref="ModelRegistry.ModelBytes"/>).</summary>
/// <param name="Id">The content hash, equal to the detector's <see cref="Models.Detection.IAnomalyDetector.Version"/>.</param>
/// <param name="Name">The detector kind (zscore, gru, ensemble, ...).</param>
/// <param name="ParentId">The version it was fine-tuned from; null for a trained one.</param>
/// <param name="Created">When it was registered (UTC).</param>
/// <param name="SizeBytes">Length of the stored model file.</param>
public sealed record ModelVersion(
    string Id,
    string Name,
    string? ParentId,
    ModelOrigin Origin,
    OriginDetail Detail,
    IReadOnlyList<RecordedGate> Gates,
    ModelStatus Status,
    DateTimeOffset Created,
    long SizeBytes);
