using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamDetect.Models.Adversarial;

/// <summary>The GAN's critic (discriminator): scaled feature vectors [B, F] → logit [B] of "normal traffic".</summary>
public sealed class GanCriticNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public GanCriticNetwork(int features, int hidden) : base(nameof(GanCriticNetwork))
    {
        layers = nn.Sequential(
            nn.Linear(features, hidden), new LeakyReluWithKeptSlope(0.2),
            nn.Linear(hidden, hidden / 2), new LeakyReluWithKeptSlope(0.2),
            nn.Linear(hidden / 2, 1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => layers.call(input).squeeze(-1);
}
