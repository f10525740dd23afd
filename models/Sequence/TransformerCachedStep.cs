using System.Numerics;
using StreamDetect.Models.Tensors;
using StreamDetect.Models.Vocabulary;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// One step of the causal Transformer for many cached blocks at once: each step computes one new row of one
/// block (an event at its position, attending to the begin token and the block's cached rows), appends its
/// keys and values to the block's <see cref="TransformerKeyValueCache"/>, and gives the prediction of that row
/// (log-probabilities of the next event's type and gap bucket).
/// <para>
/// The row-wise parts (embedding, layer norms, projections, feed-forward, heads) run as one forward call over the
/// steps, padded to a multiple of <see cref="BatchRows.Multiple"/> rows; the attention of each new row over its
/// cached rows runs here on the host, row by row (it is a few thousand multiply-adds per row, and the cached keys
/// and values then never have to be copied into tensors). Every row's result depends on that row alone, not on
/// the other steps of the call. It equals the network's full forward pass over the block up to float rounding.
/// </para>
/// </summary>
internal sealed class TransformerCachedStep
{
    private readonly CausalTransformerNetwork _network;
    private readonly Device _device;
    private readonly int _width;
    private readonly int _layers;
    private readonly int _heads;
    private readonly int _headWidth;
    private readonly float _scale;
    private readonly object _beginLock = new();
    private BeginRow? _begin;

    public TransformerCachedStep(CausalTransformerNetwork network, Device device)
    {
        _network = network;
        _device = device;
        _width = network.Width;
        _layers = network.Layers;
        _heads = network.Block(0).Heads;
        _headWidth = _width / _heads;
        _scale = (float)(1.0 / Math.Sqrt(_headWidth));
    }

    /// <summary>Type log-probabilities predicted for the first event of any block (from the begin token alone).</summary>
    public ReadOnlySpan<float> BeginTypeLog => Begin.TypeLog;

    /// <summary>Gap-bucket log-probabilities predicted for the first event of any block.</summary>
    public ReadOnlySpan<float> BeginGapLog => Begin.GapLog;

    /// <summary>
    /// Runs one step for each of <paramref name="steps"/>: the row of an event (token fields as offsets, see
    /// <see cref="EventTokenizer.WriteOffsetFields"/>) at position <c>Cache.Seen(Phase)</c> (at least 1) of its
    /// block. Appends each row's keys and values to its cache and advances it; writes each step's predictions to
    /// <paramref name="typeLog"/> [steps x types] and <paramref name="gapLog"/> [steps x gap buckets].
    /// A cache may appear once per phase in one call.
    /// </summary>
    public void Run(IReadOnlyList<(TransformerKeyValueCache Cache, int Phase, EventToken Token)> steps, EventTokenizer tokenizer, float[] typeLog, float[] gapLog)
    {
        int count = steps.Count;
        if (count == 0) return;
        var begin = Begin;
        int padded = BatchRows.Padded(count);
        var tokens = new long[padded * EventTokenizer.Fields];
        var positions = new long[padded];
        var pad = new EventToken(EventVocabulary.PadToken, 0, 0, 0);
        for (int s = 0; s < padded; s++)
        {
            var fields = tokens.AsSpan(s * EventTokenizer.Fields, EventTokenizer.Fields);
            if (s >= count)
            {
                tokenizer.WriteOffsetFields(pad, fields);
                positions[s] = 1;
                continue;
            }
            var (cache, phase, token) = steps[s];
            int position = cache.Seen(phase);
            if (position < 1) throw new ArgumentException($"step {s}: position {position} is not after the begin token");
            tokenizer.WriteOffsetFields(token, fields);
            positions[s] = position;
        }

        var qkv = new float[padded * 3 * _width];
        var attended = new float[padded * _width];
        var scores = new float[_network.MaxPositions + 1];
        using (var scope = torch.NewDisposeScope())
        using (torch.inference_mode())
        {
            var x = _network.EmbedAt(TensorTransfer.ToTensor(tokens, [padded, EventTokenizer.Fields], _device), TensorTransfer.ToTensor(positions, [padded], _device));
            for (int layer = 0; layer < _layers; layer++)
            {
                var block = _network.Block(layer);
                TensorTransfer.CopyTo(block.QueryKeyValue(x), qkv);
                for (int s = 0; s < count; s++)
                {
                    var (cache, phase, _) = steps[s];
                    // The new row's key and value join the cache before the attention (a row attends to itself).
                    var (rowArray, rowOffset) = cache.NewRow(phase);
                    Array.Copy(qkv, s * 3 * _width + _width, rowArray, rowOffset + layer * 2 * _width, 2 * _width);
                    Attend(qkv, s * 3 * _width, begin.KeyValues, layer, cache, phase, scores, attended, s * _width);
                }
                x = block.AfterAttention(x, TensorTransfer.ToTensor(attended, [padded, _width], _device));
            }
            // Heads over all padded rows (the shape, not the step count, decides a row's bits); the steps' rows kept.
            var (typeLogits, gapLogits) = _network.Predict(x);
            TensorTransfer.CopyTo(nn.functional.log_softmax(typeLogits, 1).narrow(0, 0, count), typeLog);
            TensorTransfer.CopyTo(nn.functional.log_softmax(gapLogits, 1).narrow(0, 0, count), gapLog);
        }
        foreach (var (cache, phase, _) in steps) cache.Advance(phase);
    }

    /// <summary>
    /// Scaled dot-product attention of one query row (at <paramref name="queryAt"/> of <paramref name="query"/>) over
    /// the begin token's row and the cached rows 1..position of one block (the newest, at the position itself,
    /// included), head by head, into <paramref name="output"/> at <paramref name="outputAt"/>.
    /// </summary>
    private void Attend(float[] query, int queryAt, float[] beginKeyValues, int layer, TransformerKeyValueCache cache, int phase,
        float[] scores, float[] output, int outputAt)
    {
        int position = cache.Seen(phase), d = _headWidth, layerAt = layer * 2 * _width;
        Array.Clear(output, outputAt, _width);
        for (int h = 0; h < _heads; h++)
        {
            int q = queryAt + h * d;
            float max = float.NegativeInfinity;
            for (int r = 0; r <= position; r++)
            {
                var (rows, at) = r == 0 ? (beginKeyValues, 0) : cache.RowAt(phase, r);
                float score = Dot(query, q, rows, at + layerAt + h * d, d) * _scale;
                scores[r] = score;
                if (score > max) max = score;
            }
            float sum = 0;
            for (int r = 0; r <= position; r++)
            {
                scores[r] = MathF.Exp(scores[r] - max);
                sum += scores[r];
            }
            int o = outputAt + h * d;
            for (int r = 0; r <= position; r++)
            {
                var (rows, at) = r == 0 ? (beginKeyValues, 0) : cache.RowAt(phase, r);
                AddScaled(output, o, rows, at + layerAt + _width + h * d, d, scores[r] / sum);
            }
        }
    }

    /// <summary>The dot product of <paramref name="count"/> floats of two arrays (SIMD where the hardware has it).</summary>
    private static float Dot(float[] a, int aAt, float[] b, int bAt, int count)
    {
        float sum = 0;
        int e = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var acc = Vector<float>.Zero;
            for (; e + Vector<float>.Count <= count; e += Vector<float>.Count)
                acc += new Vector<float>(a, aAt + e) * new Vector<float>(b, bAt + e);
            sum = Vector.Sum(acc);
        }
        for (; e < count; e++) sum += a[aAt + e] * b[bAt + e];
        return sum;
    }

    /// <summary>target[t..t+count) += weight * source[s..s+count).</summary>
    private static void AddScaled(float[] target, int targetAt, float[] source, int sourceAt, int count, float weight)
    {
        int e = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; e + Vector<float>.Count <= count; e += Vector<float>.Count)
                (new Vector<float>(target, targetAt + e) + weight * new Vector<float>(source, sourceAt + e)).CopyTo(target, targetAt + e);
        }
        for (; e < count; e++) target[targetAt + e] += weight * source[sourceAt + e];
    }

    private BeginRow Begin
    {
        get
        {
            if (_begin is { } begin) return begin;
            lock (_beginLock) return _begin ??= ComputeBegin();
        }
    }

    /// <summary>The begin token's row: its keys and values in every layer (it attends to itself only, so they are
    /// the same in every block) and the prediction it gives for a block's first event.</summary>
    private BeginRow ComputeBegin()
    {
        var keyValues = new float[_layers * 2 * _width];
        var qkv = new float[3 * _width];
        using var scope = torch.NewDisposeScope();
        using var inference = torch.inference_mode();
        var x = _network.BeginRow();
        for (int layer = 0; layer < _layers; layer++)
        {
            var block = _network.Block(layer);
            TensorTransfer.CopyTo(block.QueryKeyValue(x), qkv);
            qkv.AsSpan(_width, 2 * _width).CopyTo(keyValues.AsSpan(layer * 2 * _width));
            // Attention over itself alone: the softmax weight is 1, the result its value.
            var value = qkv.AsSpan(2 * _width, _width).ToArray();
            x = block.AfterAttention(x, TensorTransfer.ToTensor(value, [1, _width], _device));
        }
        var (typeLogits, gapLogits) = _network.Predict(x);
        return new BeginRow(keyValues,
            TensorTransfer.ToFloatArray(nn.functional.log_softmax(typeLogits, 1)),
            TensorTransfer.ToFloatArray(nn.functional.log_softmax(gapLogits, 1)));
    }

    private sealed record BeginRow(float[] KeyValues, float[] TypeLog, float[] GapLog);
}
