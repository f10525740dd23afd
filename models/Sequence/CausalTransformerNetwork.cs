using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// Causal Transformer next-event network over a window: a learned begin token, then the window's events
/// (four field embeddings concatenated, plus a learned position embedding); the output at position j
/// (which has seen the begin token and events 0..j-1) predicts event j's type and time-gap bucket.
/// </summary>
public sealed class CausalTransformerNetwork : nn.Module<Tensor, (Tensor TypeLogits, Tensor GapLogits)>
{
    private readonly Embedding embedding;
    private readonly Embedding positions;
    private readonly Parameter begin;
    private readonly ModuleList<CausalSelfAttentionBlock> blocks;
    private readonly LayerNorm finalNorm;
    private readonly Linear typeHead;
    private readonly Linear gapHead;
    private readonly int _width;

    public CausalTransformerNetwork(int embeddingRows, int fieldEmbedding, int heads, int layers, int feedForward, int maxPositions, int types, int gapBuckets)
        : base(nameof(CausalTransformerNetwork))
    {
        _width = 4 * fieldEmbedding;
        MaxPositions = maxPositions;
        embedding = nn.Embedding(embeddingRows, fieldEmbedding);
        positions = nn.Embedding(maxPositions + 1, _width);
        // Explicit Scalar held until the call returns (`* 0.02f` makes an implicit one: TorchSharpScalarLifetimeTests); a
        // network is built on the trainer's thread (a model copy) while the stream scores.
        using (var initialScale = 0.02f.ToScalar())
            begin = nn.Parameter(torch.randn(1, 1, _width).mul(initialScale));
        blocks = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => new CausalSelfAttentionBlock(_width, heads, feedForward)).ToArray());
        finalNorm = nn.LayerNorm(_width);
        typeHead = nn.Linear(_width, types);
        gapHead = nn.Linear(_width, gapBuckets);
        RegisterComponents();
    }

    public int MaxPositions { get; }

    /// <summary>Type tokens the head may predict; the logits of later tokens (free reserved slots) are -inf (see <see cref="TypeSlotLayers"/>).</summary>
    public int ActiveTypes { get; set; } = int.MaxValue;

    /// <summary>Logits [B, T, V] and [B, T, G] predicting each event of inputs [B, T, 4] from the ones before it.</summary>
    public override (Tensor TypeLogits, Tensor GapLogits) forward(Tensor inputs)
    {
        using var scope = NewDisposeScope();
        long b = inputs.shape[0], t = inputs.shape[1];
        if (t > MaxPositions) throw new ArgumentException($"sequence of {t} events is longer than the {MaxPositions} positions of this network");
        var events = embedding.call(inputs).reshape(b, t, _width);
        var x = torch.cat([begin.expand(b, 1, _width), events], 1);
        // The first t + 1 rows of the position table (no index tensor: nothing implicit is built per call).
        x = x.add(positions.weight!.narrow(0, 0, t + 1).unsqueeze(0), One);
        foreach (var block in blocks) x = block.call(x);
        var top = finalNorm.call(x.narrow(1, 0, t));
        return scope.MoveToOuter(TypeSlotLayers.MaskFree(typeHead.call(top), ActiveTypes), gapHead.call(top));
    }

    /// <summary>Model width (four field embeddings).</summary>
    public int Width => _width;

    /// <summary>Encoder blocks.</summary>
    public int Layers => blocks.Count;

    /// <summary>Encoder block <paramref name="layer"/> (0 = first), for one-step scoring from cached keys and values.</summary>
    public CausalSelfAttentionBlock Block(int layer) => blocks[layer];

    /// <summary>Input rows [N, width] of events [N, 4] at the given positions [N] (1..MaxPositions: position 0 is the begin token's).</summary>
    public Tensor EmbedAt(Tensor tokens, Tensor positionIndices)
    {
        using var scope = NewDisposeScope();
        var rows = embedding.call(tokens).reshape(tokens.shape[0], _width).add(positions.weight!.index_select(0, positionIndices), One);
        return rows.MoveToOuterDisposeScope();
    }

    /// <summary>The begin token's input row [1, width] (position 0).</summary>
    public Tensor BeginRow()
    {
        using var scope = NewDisposeScope();
        var row = begin.reshape(1, _width).add(positions.weight!.narrow(0, 0, 1), One);
        return row.MoveToOuterDisposeScope();
    }

    /// <summary>Kept alive for <c>add</c> (an implicit Scalar can be finalized during the native call: TorchSharpScalarLifetimeTests).</summary>
    private static readonly Scalar One = 1;

    /// <summary>Type and gap logits [N, V] and [N, G] from last-block output rows [N, width].</summary>
    public (Tensor TypeLogits, Tensor GapLogits) Predict(Tensor top)
    {
        using var scope = NewDisposeScope();
        var normed = finalNorm.call(top);
        return scope.MoveToOuter(TypeSlotLayers.MaskFree(typeHead.call(normed), ActiveTypes), gapHead.call(normed));
    }
}
