using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Adversarial;

/// <summary>
/// <c>nn.LeakyReLU(slope)</c> with its slope held as a Scalar for the module's life: TorchSharp 0.107's LeakyReLU converts
/// the slope to a Scalar on every forward pass, which the GC may finalize while libtorch still reads it
/// (TorchSharpScalarLifetimeTests), and the GAN's critic runs for every scored event beside the stream's allocations.
/// No parameters or buffers, like LeakyReLU: a network's state dict (and so its model file) is the same.
/// </summary>
internal sealed class LeakyReluWithKeptSlope : nn.Module<Tensor, Tensor>
{
    private readonly Scalar _slope;

    public LeakyReluWithKeptSlope(double slope) : base("LeakyReLU")
    {
        _slope = slope.ToScalar();
    }

    public override Tensor forward(Tensor input) => input.leaky_relu(_slope);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _slope.Dispose();
        base.Dispose(disposing);
    }
}
