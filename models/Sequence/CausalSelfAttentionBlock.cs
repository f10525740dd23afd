using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// A pre-norm Transformer encoder block with causal self-attention: position t attends to positions
/// ≤ t only, so padding after a sequence's end never changes its earlier outputs.
/// </summary>
public sealed class CausalSelfAttentionBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm attentionNorm;
    private readonly Linear queryKeyValue;
    private readonly Linear projection;
    private readonly LayerNorm feedForwardNorm;
    private readonly Linear expand;
    private readonly Linear contract;
    private readonly int _heads;
    private readonly int _width;

    public CausalSelfAttentionBlock(int width, int heads, int feedForward) : base(nameof(CausalSelfAttentionBlock))
    {
        if (width % heads != 0) throw new ArgumentException($"width {width} is not a multiple of {heads} heads");
        _width = width;
        _heads = heads;
        attentionNorm = nn.LayerNorm(width);
        queryKeyValue = nn.Linear(width, 3 * width);
        projection = nn.Linear(width, width);
        feedForwardNorm = nn.LayerNorm(width);
        expand = nn.Linear(width, feedForward);
        contract = nn.Linear(feedForward, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var qkv = queryKeyValue.call(attentionNorm.call(x)).reshape(b, t, 3, _heads, _width / _heads).permute(2, 0, 3, 1, 4);
        var attended = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: true)
            .transpose(1, 2).reshape(b, t, _width);
        // add with the kept Scalar, not `+`: training (online fine-tuning beside a busy stream) runs this too.
        var h = x.add(projection.call(attended), One);
        var result = h.add(contract.call(nn.functional.gelu(expand.call(feedForwardNorm.call(h)))), One);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Attention heads.</summary>
    public int Heads => _heads;

    /// <summary>Queries, keys and values [N, 3 * width] of rows [N, width] (per row: q, k, v, each head-major), as
    /// <see cref="forward"/> computes them; for one-step scoring from cached keys and values.</summary>
    public Tensor QueryKeyValue(Tensor x) => queryKeyValue.call(attentionNorm.call(x));

    /// <summary>The block's output for rows [N, width] given their attention results [N, width] (head-major), as
    /// <see cref="forward"/> computes it after the attention.</summary>
    public Tensor AfterAttention(Tensor x, Tensor attended)
    {
        // add with a Scalar kept alive, not `+` (its implicit Scalar can be finalized during the native call:
        // TorchSharpScalarLifetimeTests); this runs for every scored event.
        using var scope = NewDisposeScope();
        var h = x.add(projection.call(attended), One);
        var result = h.add(contract.call(nn.functional.gelu(expand.call(feedForwardNorm.call(h)))), One);
        return result.MoveToOuterDisposeScope();
    }

    private static readonly Scalar One = 1;
}
