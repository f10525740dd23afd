using StreamDetect.Models.Training;
using System.Collections.Concurrent;
using StreamDetect.Models.Online;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Tests.Online;

[Collection(OnlineModelsCollection.Name)]
public sealed class ScalarSafeAdamTests(ITestOutputHelper output)
{
    private static readonly Scalar MinusOne = -1;

    [Fact]
    public void Its_steps_equal_torch_adam_steps()
    {
        torch.manual_seed(5);
        using var ours = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 12));
        using var theirs = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 12));
        theirs.load_state_dict(ours.state_dict());
        using var x = randn(16, 12);
        using var initial = ours.parameters().First().detach().clone();
        using var adam = new ScalarSafeAdam(ours.parameters(), 0.01);
        using var reference = optim.Adam(theirs.parameters(), lr: 0.01);
        for (int step = 0; step < 25; step++)
        {
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            Loss(ours, x).backward();
            adam.Step();
            reference.zero_grad();
            Loss(theirs, x).backward();
            reference.step();
        }
        foreach (var (a, b) in ours.parameters().Zip(theirs.parameters()))
            Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-6), $"max difference {a.sub(b).abs().max().item<float>()}");
        Assert.False(ours.parameters().First().allclose(initial, rtol: 1e-3, atol: 1e-4), "the weights moved");
        Assert.Equal(25, adam.Steps);
    }

    [Fact]
    public void Projection_keeps_the_weights_within_the_bound_around_the_base()
    {
        using var net = nn.Linear(10, 10);
        var baseWeights = net.parameters().Select(p => p.detach().clone()).ToArray();
        using var adam = new ScalarSafeAdam(net.parameters(), 0.1);
        using var x = randn(32, 10);
        for (int step = 0; step < 20; step++)
        {
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            Loss(net, x).backward();
            adam.Step();
            Assert.True(adam.ProjectOnto(baseWeights, 0.02) <= 0.02 + 1e-6);
        }
        Assert.InRange(adam.RelativeDistance(baseWeights), 0.019, 0.0201);
        foreach (var t in baseWeights) t.Dispose();
    }

    /// <summary>
    /// The loop of <see cref="Native.TorchSharpScalarLifetimeTests"/> (two training threads beside GC pressure, which fails
    /// within 30 s with <c>optim.Adam</c> and <c>pow(2)</c> on this machine), with <see cref="ScalarSafeAdam"/> and a loss
    /// without implicit Scalars: no failure.
    /// </summary>
    [Fact]
    public void The_scalar_lifetime_diagnostic_loop_with_this_optimizer_never_sees_a_freed_scalar()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        stop.CancelAfter(TimeSpan.FromSeconds(15));
        var failures = new ConcurrentQueue<Exception>();
        long steps = 0;
        var pressure = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.KeepAlive(new byte[1 << 16]);
                if (Random.Shared.Next(50) == 0) GC.Collect();
            }
        });
        pressure.Start();
        var trainers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            try
            {
                torch.set_num_threads(1);
                var net = nn.Sequential(nn.Linear(108, 64), nn.ReLU(), nn.Linear(64, 108));
                using var optimizer = new ScalarSafeAdam(net.parameters(), 1e-3);
                using var x = randn(256, 108);
                while (!stop.IsCancellationRequested)
                {
                    using var scope = NewDisposeScope();
                    optimizer.ZeroGrad();
                    Loss(net, x).backward();
                    optimizer.ClipGradients(1.0);
                    optimizer.Step();
                    Interlocked.Increment(ref steps);
                }
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
            }
        })).ToList();
        trainers.ForEach(t => t.Start());
        trainers.ForEach(t => t.Join());
        stop.Cancel();
        pressure.Join();
        output.WriteLine($"{steps} training steps");
        var failure = failures.FirstOrDefault();
        Assert.True(failure is null, $"after {steps} steps: {failure?.Message.Split('\n')[0]}");
        Assert.True(steps > 100, $"{steps} steps");
    }

    /// <summary>Mean squared reconstruction error, without implicit Scalars.</summary>
    private static Tensor Loss(nn.Module<Tensor, Tensor> net, Tensor x)
    {
        var difference = net.call(x).add(x, MinusOne);
        return difference.mul(difference).mean();
    }
}
