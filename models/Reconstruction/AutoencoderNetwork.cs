using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamDetect.Models.Reconstruction;

/// <summary>A symmetric MLP autoencoder: features → hidden → bottleneck → hidden → features (GELU between).</summary>
public sealed class AutoencoderNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Sequential encoder;
    private readonly Sequential decoder;

    public AutoencoderNetwork(int features, int hidden, int bottleneck) : base(nameof(AutoencoderNetwork))
    {
        encoder = nn.Sequential(nn.Linear(features, hidden), nn.GELU(), nn.Linear(hidden, bottleneck));
        decoder = nn.Sequential(nn.GELU(), nn.Linear(bottleneck, hidden), nn.GELU(), nn.Linear(hidden, features));
        RegisterComponents();
    }

    /// <summary>The bottleneck code of a batch [B, F].</summary>
    public Tensor Encode(Tensor input) => encoder.call(input);

    public override Tensor forward(Tensor input)
    {
        using var code = encoder.call(input);
        return decoder.call(code);
    }
}
