using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Tests.Torch;

/// <summary>TorchSharp loads and trains on this machine (CPU), GLIBCXX patch included.</summary>
public sealed class TorchSharpSmokeTests
{
    [Fact]
    public void A_tiny_LSTM_trained_for_a_few_steps_lowers_its_loss()
    {
        torch.manual_seed(1);
        using var lstm = nn.LSTM(inputSize: 4, hiddenSize: 16, numLayers: 1, batchFirst: true);
        using var head = nn.Linear(16, 3);
        var parameters = lstm.parameters().Concat(head.parameters());
        using var optimizer = optim.Adam(parameters, lr: 0.02);

        // A learnable task: the class of each sequence is the sign pattern of its first feature's sum.
        using var x = torch.randn(64, 10, 4);
        using var y = (x.select(2, 0).sum(1) > 0).to(ScalarType.Int64) + (x.select(2, 1).sum(1) > 0).to(ScalarType.Int64);

        float Step()
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var (output, _, _) = lstm.call(x);
            var logits = head.call(output.select(1, -1));
            var loss = nn.functional.cross_entropy(logits, y);
            loss.backward();
            optimizer.step();
            return loss.item<float>();
        }

        float first = Step();
        float last = first;
        for (int i = 0; i < 60; i++) last = Step();

        Assert.True(last < first * 0.6f, $"loss did not fall enough: first {first}, last {last}");
    }
}
