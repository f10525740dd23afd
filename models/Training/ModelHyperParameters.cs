using System.Collections.Immutable;
using StreamDetect.Models.Detection;

namespace StreamDetect.Models.Training;

/// <summary>
/// Hyper-parameters by detector kind (HOCON <c>streamdetect.models.&lt;name&gt;</c>): a kind without an entry
/// trains with its own <see cref="IDetectorKind{T}.DefaultHyperParameters"/>. Immutable; keyed by kind name.
/// </summary>
public sealed class ModelHyperParameters
{
    private readonly ImmutableDictionary<string, object> _byKind;

    private ModelHyperParameters(ImmutableDictionary<string, object> byKind) => _byKind = byKind;

    /// <summary>Every kind with its defaults.</summary>
    public static ModelHyperParameters Defaults { get; } = new(ImmutableDictionary.Create<string, object>(StringComparer.Ordinal));

    /// <summary>The kind's hyper-parameters: those set here, else its defaults.</summary>
    public T For<T>(IDetectorKind<T> kind) where T : class =>
        _byKind.TryGetValue(kind.Name, out var parameters) ? (T)parameters : kind.DefaultHyperParameters;

    /// <inheritdoc cref="For{T}(IDetectorKind{T})"/>
    public object For(IDetectorKind kind) =>
        _byKind.TryGetValue(kind.Name, out var parameters) ? parameters : kind.DefaultHyperParameters;

    /// <summary>A copy with the kind's hyper-parameters replaced.</summary>
    public ModelHyperParameters With<T>(IDetectorKind<T> kind, T parameters) where T : class =>
        With((IDetectorKind)kind, parameters);

    /// <summary>A copy with the kind's hyper-parameters changed, e.g. <c>With(GruKind, p => p with { Epochs = 3 })</c>.</summary>
    public ModelHyperParameters With<T>(IDetectorKind<T> kind, Func<T, T> change) where T : class =>
        With(kind, change(For(kind)));

    /// <summary>A copy with the kind's hyper-parameters replaced by a record of its <see cref="IDetectorKind.HyperParameterType"/>.</summary>
    public ModelHyperParameters With(IDetectorKind kind, object parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.GetType() != kind.HyperParameterType)
            throw new ArgumentException($"'{kind.Name}' takes {kind.HyperParameterType.Name}, not {parameters.GetType().Name}", nameof(parameters));
        return new(_byKind.SetItem(kind.Name, parameters));
    }
}
