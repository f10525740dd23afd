using TorchSharp;

namespace StreamDetect.Models.Tests.Native;

/// <summary>
/// The TorchSharp 0.107 Scalar-lifetime defect (<see cref="TorchSharpScalarLifetimeTests"/>) hits any Scalar that nothing
/// holds during its native call, whenever another thread allocates (a trainer beside a busy stream, the ensemble's
/// parallel members). A race that shows once in many runs cannot be shown by a run; the IL can: scoring and training code
/// must hold every Scalar it hands to libtorch (a static field, or an explicit Scalar disposed after the call), and this
/// finds every place that does not, so that a new <c>tensor * 0.5</c> or <c>a + b</c> fails here.
/// </summary>
public sealed class ImplicitScalarAuditTests(ITestOutputHelper output)
{
    [Fact]
    public void Models_hand_libtorch_no_scalar_that_nothing_holds() =>
        AssertNone(typeof(StreamDetect.Models.Detection.AnomalyDetector).Assembly.Location);

    [Fact]
    public void Stages_hand_libtorch_no_scalar_that_nothing_holds() =>
        AssertNone(typeof(StreamDetect.Stages.Scoring.Scorer).Assembly.Location);

    [Fact]
    public void The_audit_finds_the_hazards_the_defect_was_reproduced_with()
    {
        // This test assembly's own diagnostic holds them (pow(2), Tensor - Tensor is safe, optim.Adam is not ours).
        var findings = ImplicitScalarAudit.Scan(typeof(ImplicitScalarAuditTests).Assembly.Location, typeof(TorchSharp.Scalar).Assembly.Location);
        Assert.Contains(findings, f => f.Method.Contains("TorchSharpScalarLifetimeTests", StringComparison.Ordinal) && f.What.Contains("implicit conversion", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Method.Contains(nameof(Hazards), StringComparison.Ordinal) && f.What.Contains("op_Addition", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Method.Contains(nameof(Hazards), StringComparison.Ordinal) && f.What.Contains("LeakyReLU", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Method.Contains(nameof(Hazards), StringComparison.Ordinal) && f.What.Contains("explicit Scalar", StringComparison.Ordinal));
        Assert.DoesNotContain(findings, f => f.Method.Contains(nameof(Held), StringComparison.Ordinal));
    }

    private void AssertNone(string assembly)
    {
        var findings = ImplicitScalarAudit.Scan(assembly, typeof(TorchSharp.Scalar).Assembly.Location);
        foreach (var finding in findings) output.WriteLine(finding.ToString());
        Assert.True(findings.Count == 0, $"{findings.Count} Scalars handed to libtorch that nothing holds in {Path.GetFileName(assembly)}, e.g. {findings.FirstOrDefault()}");
    }

    // Examples for the audit's own test; never run.
    private static TorchSharp.torch.Tensor Hazards(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b)
    {
        using var activation = TorchSharp.torch.nn.LeakyReLU(0.2);
        return activation.call(a + b).mul(0.5.ToScalar());
    }

    private static readonly TorchSharp.Scalar Two = 2;

    private static TorchSharp.torch.Tensor Held(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b)
    {
        using var weight = 0.5.ToScalar();
        return a.add(b, weight).pow(Two);
    }
}
