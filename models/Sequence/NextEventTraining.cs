using StreamDetect.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// The training loop shared by the next-event networks (LSTM, GRU, Transformer): chunks of the training
/// users' token sequences, cross-entropy on the next type plus <c>gapWeight</c> times cross-entropy on
/// the next time-gap bucket, Adam with gradient clipping, early stopping on the validation loss.
/// </summary>
internal static class NextEventTraining
{
    internal sealed record Settings(
        string Model, int Epochs, double LearningRate, int BatchSize, int ChunkLength, int BurnIn,
        long MaxTrainEvents, long MaxValidationEvents, int Patience, double GapWeight);

    public static void Fit(nn.Module module, Func<Tensor, (Tensor TypeLogits, Tensor GapLogits)> predict,
        SequenceCorpus corpus, Settings settings, TrainingContext context)
    {
        var random = context.Random(settings.Model);
        var trainChunks = SequenceCorpus.Chunk(corpus.Training, settings.ChunkLength, settings.BurnIn);
        var validationChunks = SequenceCorpus.Subsample(
            SequenceCorpus.Chunk(corpus.Validation, settings.ChunkLength, settings.BurnIn), settings.MaxValidationEvents, context.Random(settings.Model + "/validation"));
        var validationBatches = SequenceCorpus.Batches(validationChunks, settings.BatchSize * 4, null);
        if (trainChunks.Count == 0) throw new ArgumentException("there are no training sequences");

        var parameters = module.parameters().ToArray();
        using var optimizer = new ScalarSafeAdam(parameters, settings.LearningRate);
        var early = new EarlyStopping(settings.Patience);
        int epochs = settings.Epochs;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            module.train();
            var batches = SequenceCorpus.Batches(SequenceCorpus.Subsample(trainChunks, settings.MaxTrainEvents, random), settings.BatchSize, random);
            double lossSum = 0;
            long lossCount = 0;
            foreach (var batch in batches)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                optimizer.ZeroGrad();
                var (loss, count) = Loss(predict, corpus, corpus.Training, batch, settings.GapWeight, module.parameters().First().device);
                if (count == 0) continue;
                loss.backward();
                optimizer.ClipGradients(1.0);
                optimizer.Step();
                lossSum += loss.item<float>() * count;
                lossCount += count;
            }
            double trainLoss = lossCount == 0 ? double.NaN : lossSum / lossCount;

            double? validationLoss = null;
            if (validationBatches.Count > 0)
            {
                module.eval();
                double sum = 0;
                long count = 0;
                using (no_grad())
                {
                    foreach (var batch in validationBatches)
                    {
                        using var scope = NewDisposeScope();
                        var (loss, n) = Loss(predict, corpus, corpus.Validation, batch, settings.GapWeight, module.parameters().First().device);
                        if (n == 0) continue;
                        sum += loss.item<float>() * n;
                        count += n;
                    }
                }
                if (count > 0) validationLoss = sum / count;
            }

            bool stop = early.Update(epoch, validationLoss ?? trainLoss, module);
            context.Report(settings.Model, epoch, epochs, trainLoss, validationLoss, stop ? $"early stop, best epoch {early.BestEpoch}" : null);
            if (stop) break;
        }
        early.RestoreBest(module);
        module.eval();
    }

    private static (Tensor Loss, long Count) Loss(Func<Tensor, (Tensor, Tensor)> predict, SequenceCorpus corpus,
        IReadOnlyList<Vocabulary.EventToken[]> users, SequenceChunk[] batch, double gapWeight, Device device)
    {
        var (inputs, types, gaps) = corpus.Batch(users, batch, device);
        long count = types.ne(Ignored).sum().item<long>();
        if (count == 0) return (inputs, 0);
        var (typeLogits, gapLogits) = predict(inputs);
        var loss = nn.functional.cross_entropy(typeLogits.reshape(-1, typeLogits.shape[^1]), types.reshape(-1), ignore_index: -100);
        if (gapWeight > 0 && gaps.ne(Ignored).any().item<bool>())
        {
            // Explicit Scalars held until the native calls return (`loss + w * x` makes two implicit ones).
            using var weight = gapWeight.ToScalar();
            loss = loss.add(nn.functional.cross_entropy(gapLogits.reshape(-1, gapLogits.shape[^1]), gaps.reshape(-1), ignore_index: -100), weight);
        }
        return (loss, count);
    }

    /// <summary>The ignored target, kept alive (an implicit Scalar can be finalized during the native call: TorchSharpScalarLifetimeTests).</summary>
    private static readonly Scalar Ignored = -100;
}
