using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamDetect.Models.Training;

/// <summary>
/// Adam (Kingma and Ba, with bias correction) written so that no Scalar is made by implicit conversion: TorchSharp
/// 0.107's <c>optim.Adam.step</c> converts its learning rate and betas to Scalars that the GC may finalize while
/// libtorch still reads them (<c>TorchSharpScalarLifetimeTests</c>), which a trainer beside a busy stream hits. Here
/// every Scalar is created explicitly, held in a local until the native calls that read it have returned
/// (<see cref="GC.KeepAlive"/>), then disposed. Also: gradient clipping and the pull toward base weights (L2-SP) and the
/// projection onto a distance bound around them, with the same discipline. Not thread-safe; one instance per module copy.
/// Every training in the product uses it (sequence models, feature networks, the GAN, online fine-tuning): with
/// <c>optim.Adam</c> the GAN's training failed this way in the test suite on a loaded machine.
/// </summary>
public sealed class ScalarSafeAdam : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;
    private readonly double _learningRate, _beta1, _beta2, _epsilon;
    private long _step;
    private bool _disposed;

    public ScalarSafeAdam(IEnumerable<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        _parameters = parameters.ToArray();
        _learningRate = learningRate;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        using (no_grad())
        {
            // The moments live as long as the optimizer, whatever dispose scope the caller is in.
            _firstMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
            _secondMoments = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        }
    }

    /// <summary>Steps taken.</summary>
    public long Steps => _step;

    public IReadOnlyList<Parameter> Parameters => _parameters;

    public void ZeroGrad()
    {
        // Each read of grad is a new handle: the scope disposes them.
        using var scope = NewDisposeScope();
        foreach (var p in _parameters) p.grad?.zero_();
    }

    /// <summary>Scales the gradients so that their global L2 norm is at most <paramref name="maxNorm"/>; returns the norm before.</summary>
    public double ClipGradients(double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var grads = _parameters.Select(p => p.grad).OfType<Tensor>().ToArray();
        if (grads.Length == 0) return 0;
        double norm = Math.Sqrt(stack(grads.Select(g => g.mul(g).sum()).ToArray()).sum().item<float>());
        if (norm > maxNorm && norm > 0)
        {
            var scale = (maxNorm / norm).ToScalar();
            foreach (var g in grads) g.mul_(scale);
            GC.KeepAlive(scale);
            scale.Dispose();
        }
        return norm;
    }

    /// <summary>Adds the gradient of (strength / 2) ||w - base||^2 to every parameter's gradient (L2-SP).</summary>
    public void PullTowards(IReadOnlyList<Tensor> baseWeights, double strength)
    {
        if (strength == 0) return;
        CheckShapes(baseWeights);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var plus = strength.ToScalar();
        var minus = (-strength).ToScalar();
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (_parameters[i].grad is not { } g) continue;
            g.add_(_parameters[i], plus).add_(baseWeights[i], minus);
        }
        GC.KeepAlive(plus);
        GC.KeepAlive(minus);
        plus.Dispose();
        minus.Dispose();
    }

    /// <summary>One Adam step over the parameters with a gradient.</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _step++;
        double correction1 = 1 - Math.Pow(_beta1, _step), correction2 = 1 - Math.Pow(_beta2, _step);
        var beta1 = _beta1.ToScalar();
        var oneMinusBeta1 = (1 - _beta1).ToScalar();
        var beta2 = _beta2.ToScalar();
        var oneMinusBeta2 = (1 - _beta2).ToScalar();
        var sqrtCorrection2 = Math.Sqrt(correction2).ToScalar();
        var epsilon = _epsilon.ToScalar();
        var one = 1.0.ToScalar();
        var stepSize = (-_learningRate / correction1).ToScalar();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            for (int i = 0; i < _parameters.Length; i++)
            {
                if (_parameters[i].grad is not { } g) continue;
                var m = _firstMoments[i];
                var v = _secondMoments[i];
                m.mul_(beta1).add_(g, oneMinusBeta1);
                v.mul_(beta2).addcmul_(g, g, oneMinusBeta2);
                // w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
                var denominator = v.sqrt().div_(sqrtCorrection2).add_(epsilon, one);
                _parameters[i].addcdiv_(m, denominator, stepSize);
            }
        }
        foreach (var scalar in new[] { beta1, oneMinusBeta1, beta2, oneMinusBeta2, sqrtCorrection2, epsilon, one, stepSize })
        {
            GC.KeepAlive(scalar);
            scalar.Dispose();
        }
    }

    /// <summary>||w - base|| / ||base|| over all parameters together.</summary>
    public double RelativeDistance(IReadOnlyList<Tensor> baseWeights)
    {
        var (distance, norm) = Distance(baseWeights);
        return norm == 0 ? distance : distance / norm;
    }

    /// <summary>Moves the weights back onto the ball ||w - base|| &lt;= maxRelative x ||base|| when they left it; returns the
    /// relative distance after.</summary>
    public double ProjectOnto(IReadOnlyList<Tensor> baseWeights, double maxRelative)
    {
        var (distance, norm) = Distance(baseWeights);
        double radius = maxRelative * norm;
        if (distance <= radius || distance == 0) return norm == 0 ? distance : distance / norm;
        // w = base + (w - base) * s = w * s + base * (1 - s)
        double s = radius / distance;
        var keep = s.ToScalar();
        var toward = (1 - s).ToScalar();
        using (no_grad())
            for (int i = 0; i < _parameters.Length; i++) _parameters[i].mul_(keep).add_(baseWeights[i], toward);
        GC.KeepAlive(keep);
        GC.KeepAlive(toward);
        keep.Dispose();
        toward.Dispose();
        return RelativeDistance(baseWeights);
    }

    private (double Distance, double Norm) Distance(IReadOnlyList<Tensor> baseWeights)
    {
        CheckShapes(baseWeights);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var minusOne = (-1.0).ToScalar();
        var squares = new Tensor[_parameters.Length];
        var norms = new Tensor[_parameters.Length];
        for (int i = 0; i < _parameters.Length; i++)
        {
            var difference = _parameters[i].add(baseWeights[i], minusOne);
            squares[i] = difference.mul(difference).sum();
            norms[i] = baseWeights[i].mul(baseWeights[i]).sum();
        }
        GC.KeepAlive(minusOne);
        minusOne.Dispose();
        double distance = Math.Sqrt(stack(squares).sum().to(float64).item<double>());
        double norm = Math.Sqrt(stack(norms).sum().to(float64).item<double>());
        return (distance, norm);
    }

    private void CheckShapes(IReadOnlyList<Tensor> baseWeights)
    {
        if (baseWeights.Count != _parameters.Length)
            throw new ArgumentException($"{baseWeights.Count} base tensors for {_parameters.Length} parameters", nameof(baseWeights));
        for (int i = 0; i < _parameters.Length; i++)
            if (!baseWeights[i].shape.SequenceEqual(_parameters[i].shape))
                throw new ArgumentException($"base tensor {i} has shape [{string.Join(", ", baseWeights[i].shape)}], its parameter [{string.Join(", ", _parameters[i].shape)}]", nameof(baseWeights));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _firstMoments) t.Dispose();
        foreach (var t in _secondMoments) t.Dispose();
    }
}
