using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// DeepLog-style next-event network: each event is embedded (type token, time-gap bucket, amount
/// bucket, item relation: four embeddings from one table, concatenated), an LSTM or GRU folds the events
/// into a hidden state, and two heads read the top layer's state: the distribution of the next event's
/// type and of its time gap.
/// <para>
/// <c>forward(inputs [B,T,4], h0, c0)</c> runs T steps from the given state (zeros when null) and returns
/// the top layer's output at every step and the final state; <see cref="Predict"/> applies the heads to
/// a top-layer state. The prediction for step t is <c>Predict(output at t-1)</c> (the zero state for t = 0),
/// so scoring one step at a time from a kept state gives the same numbers as a full pass.
/// </para>
/// </summary>
public sealed class RecurrentNextEventNetwork : nn.Module<Tensor, Tensor?, Tensor?, (Tensor Output, Tensor Hidden, Tensor? Cell)>
{
    private readonly Embedding embedding;
    private readonly nn.Module rnn;
    private readonly Linear typeHead;
    private readonly Linear gapHead;
    private readonly RecurrentCell _cell;
    private readonly int _inputSize;

    public RecurrentNextEventNetwork(RecurrentCell cell, int embeddingRows, int fieldEmbedding, int hidden, int layers, int types, int gapBuckets)
        : base(nameof(RecurrentNextEventNetwork))
    {
        _cell = cell;
        _inputSize = 4 * fieldEmbedding;
        Hidden = hidden;
        Layers = layers;
        embedding = nn.Embedding(embeddingRows, fieldEmbedding);
        rnn = cell == RecurrentCell.Lstm
            ? nn.LSTM(_inputSize, hidden, numLayers: layers, batchFirst: true)
            : nn.GRU(_inputSize, hidden, numLayers: layers, batchFirst: true);
        typeHead = nn.Linear(hidden, types);
        gapHead = nn.Linear(hidden, gapBuckets);
        RegisterComponents();
    }

    public int Hidden { get; }

    public int Layers { get; }

    public bool HasCellState => _cell == RecurrentCell.Lstm;

    /// <summary>Runs the inputs [B, T, 4] from state (h0, c0) (zeros when null); returns outputs [B, T, H] and the final state [L, B, H].</summary>
    public override (Tensor Output, Tensor Hidden, Tensor? Cell) forward(Tensor inputs, Tensor? h0, Tensor? c0)
    {
        long b = inputs.shape[0], t = inputs.shape[1];
        using var embedded = embedding.call(inputs);
        using var x = embedded.reshape(b, t, _inputSize);
        return Recur(x, h0, c0);
    }

    /// <summary>The events [S, 4] embedded, [S, 4 x field embedding] (a lookup: the same values however the events are grouped).</summary>
    public Tensor Embed(Tensor events)
    {
        using var embedded = embedding.call(events);
        return embedded.reshape(events.shape[0], _inputSize);
    }

    /// <summary>Runs embedded inputs [B, T, 4 x field embedding] (<see cref="Embed"/>) from state (h0, c0) (zeros when null):
    /// what <see cref="forward"/> does after the lookup.</summary>
    public (Tensor Output, Tensor Hidden, Tensor? Cell) Recur(Tensor x, Tensor? h0, Tensor? c0)
    {
        if (rnn is LSTM lstm)
        {
            var state = h0 is null ? ((Tensor, Tensor)?)null : (h0, c0 ?? torch.zeros_like(h0));
            var (output, h, c) = lstm.call(x, state);
            return (output, h, c);
        }
        var (gruOutput, gruH) = ((GRU)rnn).call(x, h0);
        return (gruOutput, gruH, null);
    }

    /// <summary>The heads on top-layer states [..., H]: type logits [..., V] and gap logits [..., G].</summary>
    public (Tensor TypeLogits, Tensor GapLogits) Predict(Tensor top)
    {
        if (ActiveTypes >= typeHead.out_features) return (typeHead.call(top), gapHead.call(top));
        using var logits = typeHead.call(top);
        return (TypeSlotLayers.MaskFree(logits, ActiveTypes), gapHead.call(top));
    }

    /// <summary>Type tokens the head may predict; the logits of later tokens (free reserved slots) are -inf (see <see cref="TypeSlotLayers"/>).</summary>
    public int ActiveTypes { get; set; } = int.MaxValue;

    /// <summary>For training: logits predicting every position of inputs [B, T, 4] from a zero state.</summary>
    public (Tensor TypeLogits, Tensor GapLogits) PredictSequence(Tensor inputs)
    {
        using var scope = torch.NewDisposeScope();
        var (output, _, _) = call(inputs, null, null);
        long b = output.shape[0];
        var shifted = torch.cat([torch.zeros(b, 1, Hidden, device: output.device), output.narrow(1, 0, output.shape[1] - 1)], 1);
        var (types, gaps) = Predict(shifted);
        return scope.MoveToOuter(types, gaps);
    }
}
