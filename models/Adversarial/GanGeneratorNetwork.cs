using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamDetect.Models.Adversarial;

/// <summary>The GAN's generator: latent noise [B, Z] → synthetic scaled feature vectors [B, F].</summary>
public sealed class GanGeneratorNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public GanGeneratorNetwork(int latent, int hidden, int features) : base(nameof(GanGeneratorNetwork))
    {
        layers = nn.Sequential(
            nn.Linear(latent, hidden), new LeakyReluWithKeptSlope(0.2),
            nn.Linear(hidden, hidden), new LeakyReluWithKeptSlope(0.2),
            nn.Linear(hidden, features));
        RegisterComponents();
    }

    public override Tensor forward(Tensor latent) => layers.call(latent);
}
