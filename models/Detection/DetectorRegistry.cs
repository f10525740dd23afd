using StreamDetect.Models.Adversarial;
using StreamDetect.Models.Baselines;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Neighbours;
using StreamDetect.Models.Reconstruction;
using StreamDetect.Models.Sequence;

namespace StreamDetect.Models.Detection;

/// <summary>Detector kinds by name. Adding a model is adding its file and one line in <see cref="CreateDefault"/>.</summary>
public sealed class DetectorRegistry
{
    private readonly Dictionary<string, IDetectorKind> _kinds = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    /// <summary>Every detector this build knows.</summary>
    public static DetectorRegistry Default { get; } = CreateDefault();

    public IReadOnlyList<string> Names => _names;

    private static DetectorRegistry CreateDefault()
    {
        var registry = new DetectorRegistry();
        registry.Register(RecurrentNextEventDetector.LstmKind);
        registry.Register(RecurrentNextEventDetector.GruKind);
        registry.Register(TransformerNextEventDetector.Kind);
        registry.Register(AutoencoderDetector.Kind);
        registry.Register(GanDetector.Kind);
        registry.Register(KnnDetector.Kind);
        registry.Register(RobustZScoreDetector.Kind);
        registry.Register(IsolationForestDetector.Kind);
        registry.Register(EnsembleDetector.Kind);
        return registry;
    }

    public void Register(IDetectorKind kind)
    {
        if (!_kinds.TryAdd(kind.Name, kind)) throw new ArgumentException($"a detector named '{kind.Name}' is already registered");
        _names.Add(kind.Name);
    }

    public bool TryGet(string name, out IDetectorKind kind) => _kinds.TryGetValue(name, out kind!);

    public IDetectorKind Get(string name) =>
        TryGet(name, out var kind) ? kind : throw new ArgumentException($"unknown model '{name}' (known: {string.Join(", ", _names)})");
}
