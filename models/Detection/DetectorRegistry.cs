using StreamDetect.Models.Adversarial;
using StreamDetect.Models.Baselines;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Neighbours;
using StreamDetect.Models.Novelty;
using StreamDetect.Models.Reconstruction;
using StreamDetect.Models.Sequence;

namespace StreamDetect.Models.Detection;

/// <summary>
/// Detector kinds by name: the one list of the models this build knows. Their names are what
/// <c>streamdetect.run.model</c>, <c>train --model</c>, help texts and model files use, and each kind's
/// hyper-parameters are read from <c>streamdetect.models.&lt;name&gt;</c>. Adding a model is adding its
/// file (with its <see cref="IDetectorKind{T}"/>), its HOCON block in hocon/streamdetect.conf, and one
/// line in <see cref="CreateDefault"/>.
/// </summary>
public sealed class DetectorRegistry
{
    private readonly Dictionary<string, IDetectorKind> _byName = new(StringComparer.Ordinal);
    private readonly List<IDetectorKind> _kinds = [];
    private readonly List<string> _names = [];

    /// <summary>Every detector this build knows.</summary>
    public static DetectorRegistry Default { get; } = CreateDefault();

    /// <summary>The kinds' names, in registration order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The kinds, in registration order.</summary>
    public IReadOnlyList<IDetectorKind> Kinds => _kinds;

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
        registry.Register(NoveltyDetector.Kind);
        registry.Register(EnsembleDetector.Kind);
        return registry;
    }

    public void Register(IDetectorKind kind)
    {
        if (!_byName.TryAdd(kind.Name, kind)) throw new ArgumentException($"a detector named '{kind.Name}' is already registered");
        _kinds.Add(kind);
        _names.Add(kind.Name);
    }

    public bool TryGet(string name, out IDetectorKind kind) => _byName.TryGetValue(name, out kind!);

    public IDetectorKind Get(string name) =>
        TryGet(name, out var kind) ? kind : throw new ArgumentException($"unknown model '{name}' (known: {string.Join(", ", _names)})");
}
