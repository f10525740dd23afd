using StreamDetect.Models.Features;
using static TorchSharp.torch;

namespace StreamDetect.Models.Training;

/// <summary>Mini-batch training of a network on scaled feature rows with Adam and early stopping on a validation loss.</summary>
internal static class FeatureNetworkTraining
{
    public static void Fit(string model, nn.Module network, Func<Tensor, Tensor> loss,
        float[] train, int trainRows, float[] validation, int validationRows,
        int epochs, int batchSize, double learningRate, int patience, TrainingContext context)
    {
        int f = FeatureSchema.Count;
        var device = context.Device;
        var random = context.Random(model);
        var parameters = network.parameters().ToArray();
        using var optimizer = new ScalarSafeAdam(parameters, learningRate);
        var early = new EarlyStopping(patience);
        using var all = tensor(train, [trainRows, f], device: device);
        using var held = validationRows > 0 ? tensor(validation, [validationRows, f], device: device) : null;
        var order = Enumerable.Range(0, trainRows).ToArray();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            network.train();
            random.Shuffle(order);
            using var permutation = tensor(order.Select(i => (long)i).ToArray(), device: device);
            double sum = 0;
            int batches = 0;
            for (int start = 0; start < trainRows; start += batchSize)
            {
                using var scope = NewDisposeScope();
                optimizer.ZeroGrad();
                var x = all.index_select(0, permutation.narrow(0, start, Math.Min(batchSize, trainRows - start)));
                var value = loss(x);
                value.backward();
                optimizer.ClipGradients(5.0);
                optimizer.Step();
                sum += value.item<float>();
                batches++;
            }
            double trainLoss = sum / Math.Max(1, batches);
            double? validationLoss = null;
            if (held is not null)
            {
                network.eval();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                double total = 0;
                for (int start = 0; start < validationRows; start += 8192)
                {
                    int rows = Math.Min(8192, validationRows - start);
                    total += loss(held.narrow(0, start, rows)).item<float>() * rows;
                }
                validationLoss = total / validationRows;
            }
            bool stop = early.Update(epoch, validationLoss ?? trainLoss, network);
            context.Report(model, epoch, epochs, trainLoss, validationLoss, stop ? $"early stop, best epoch {early.BestEpoch}" : null);
            if (stop) break;
        }
        early.RestoreBest(network);
        network.eval();
    }
}
