using StreamDetect.Models.Training;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Sequence;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Online;

/// <summary>
/// The next-event training loss (cross-entropy on the next type plus gap weight times cross-entropy on the next time-gap
/// bucket), as the sequence models train on it, written without implicit Scalars (see <see cref="ScalarSafeAdam"/>).
/// </summary>
public static class NextEventLoss
{
    private const long Ignored = -100;

    /// <summary>The mean loss per predicted event of a detector's sequence part (an ensemble's sequence member) on
    /// <paramref name="users"/>, chunked as its training chunks them. Call it on a detector no other thread scores with.</summary>
    public static double Mean(IAnomalyDetector detector, BehaviorDataset users)
    {
        var model = SequenceMember.Trainable(detector);
        var device = SequenceMember.Of(detector).Device;
        var corpus = SequenceCorpus.WithTokenizer(model.Tokenizer, users, new BehaviorDataset([], users.WindowCapacity));
        var chunks = SequenceCorpus.Chunk(corpus.Training, model.ChunkLength, model.BurnIn);
        double sum = 0;
        long count = 0;
        bool training = model.Module.training;
        model.Module.eval();
        try
        {
            using var _ = no_grad();
            foreach (var batch in SequenceCorpus.Batches(chunks, 64, null))
            {
                using var scope = NewDisposeScope();
                var (loss, n) = Of(model, corpus, corpus.Training, batch, device);
                if (n == 0) continue;
                sum += loss.item<float>() * n;
                count += n;
            }
        }
        finally
        {
            model.Module.train(training);
        }
        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>The loss of one batch of chunks (a graph for backward when grad is on) and its number of predicted events.</summary>
    internal static (Tensor Loss, long Count) Of(NextEventTrainable model, SequenceCorpus corpus, IReadOnlyList<Vocabulary.EventToken[]> users,
        IReadOnlyList<SequenceChunk> chunks, Device device)
    {
        long count = chunks.Sum(c => (long)c.LossEvents);
        var (inputs, types, gaps) = corpus.Batch(users, chunks, device);
        if (count == 0) return (inputs, 0);
        var (typeLogits, gapLogits) = model.Predict(inputs);
        var loss = nn.functional.cross_entropy(typeLogits.reshape(-1, typeLogits.shape[^1]), types.reshape(-1), ignore_index: Ignored);
        if (model.GapWeight > 0)
        {
            var ignored = Ignored.ToScalar();
            bool anyGap = gaps.ne(ignored).any().item<bool>();
            GC.KeepAlive(ignored);
            ignored.Dispose();
            if (anyGap)
            {
                var gapLoss = nn.functional.cross_entropy(gapLogits.reshape(-1, gapLogits.shape[^1]), gaps.reshape(-1), ignore_index: Ignored);
                var weight = model.GapWeight.ToScalar();
                loss = loss.add(gapLoss, weight);
                GC.KeepAlive(weight);
                weight.Dispose();
            }
        }
        return (loss, count);
    }
}
