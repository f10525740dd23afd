using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Scaling;
using StreamDetect.Models.Tensors;
using StreamDetect.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Reconstruction;

/// <summary>
/// Autoencoder over the robustly scaled feature vector, trained on normal training events. Raw score:
/// mean squared reconstruction error; explanation: each feature's share of the squared error.
/// </summary>
public sealed class AutoencoderDetector : FeatureDetector
{
    private readonly AutoencoderHyperParameters _parameters;
    private readonly AutoencoderNetwork _network;

    private AutoencoderDetector(AutoencoderHyperParameters parameters, FeatureScaler scaler, AutoencoderNetwork network, Device device)
        : base("ae", device, scaler, parameters.Clip, parameters.ExplainTop)
    {
        _parameters = parameters;
        _network = network;
        _network.eval();
    }

    public static IDetectorKind<AutoencoderHyperParameters> Kind { get; } = new KindImpl();

    /// <summary>
    /// A new autoencoder with the same hyper-parameters and this one's training-time scaling, its network a copy of this
    /// one trained on from its weights for <paramref name="steps"/> Adam steps (the member's batch size and learning
    /// rate) on the events of <paramref name="data"/> (up to <see cref="AutoencoderHyperParameters.MaxSamples"/> rows
    /// chosen by <paramref name="seed"/>, batches drawn by it): online fine-tuning's bounded refit, so that the
    /// reconstruction learns a round's population (a release's new types in <c>count_other_*</c>) in the scale the
    /// network was trained in. Uncalibrated: the caller calibrates it. This detector is not touched.
    /// </summary>
    internal AutoencoderDetector WithNetworkTrainedOn(BehaviorDataset data, int seed, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        int f = FeatureSchema.Count;
        var rows = FeatureMatrix.Sample(data, _parameters.MaxSamples, seed);
        var scaled = Scaler.Transform(rows.Values, rows.Rows, Clip);
        var network = new AutoencoderNetwork(f, _parameters.Hidden, _parameters.Bottleneck);
        try
        {
            network.to(Device);
            using (no_grad())
            {
                foreach (var (to, from) in network.parameters().Zip(_network.parameters())) to.copy_(from);
            }
            if (steps > 0 && rows.Rows > 0)
            {
                using var optimizer = new ScalarSafeAdam(network.parameters().ToArray(), _parameters.LearningRate);
                using var all = tensor(scaled, [rows.Rows, f], device: Device);
                var random = new Random(seed);
                int batch = Math.Min(_parameters.BatchSize, rows.Rows);
                var picks = new long[batch];
                network.train();
                for (int step = 0; step < steps; step++)
                {
                    using var scope = NewDisposeScope();
                    for (int i = 0; i < batch; i++) picks[i] = random.Next(rows.Rows);
                    optimizer.ZeroGrad();
                    var x = all.index_select(0, tensor(picks, device: Device));
                    // (reconstruction - x)^2 without square's implicit Scalar (see ScoreScaled).
                    var error = network.call(x).sub(x);
                    error.mul(error).mean().backward();
                    optimizer.ClipGradients(5.0);
                    optimizer.Step();
                }
            }
            network.eval();
            return new AutoencoderDetector(_parameters, Scaler, network, Device) { ExplainFrom = ExplainFrom };
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    protected override double[] ScoreScaled(float[] scaled, int count, float[] contributions)
    {
        int f = FeatureSchema.Count;
        using (var scope = NewDisposeScope())
        using (inference_mode())
        {
            var x = TensorTransfer.ToTensor(scaled.AsSpan(0, count * f), [count, f], Device);
            // (reconstruction - x)^2 in place: what (call(x) - x).square() computes (square is x * x), without two
            // more tensors and without square's implicit Scalar (pow(2): see TorchSharpScalarLifetimeTests).
            var error = _network.call(x).sub_(x);
            TensorTransfer.CopyTo(error.mul_(error), contributions);
        }
        var scores = new double[count];
        int r = 0;
        // Four rows at a time: each row's sum is still taken feature by feature in order (the same double), but four
        // independent chains of additions keep the adder busy.
        for (; r + 4 <= count; r += 4)
        {
            var row0 = contributions.AsSpan(r * f, f);
            var row1 = contributions.AsSpan((r + 1) * f, f);
            var row2 = contributions.AsSpan((r + 2) * f, f);
            var row3 = contributions.AsSpan((r + 3) * f, f);
            double sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
            for (int j = 0; j < row0.Length; j++)
            {
                sum0 += row0[j];
                sum1 += row1[j];
                sum2 += row2[j];
                sum3 += row3[j];
            }
            scores[r] = sum0 / f;
            scores[r + 1] = sum1 / f;
            scores[r + 2] = sum2 / f;
            scores[r + 3] = sum3 / f;
        }
        for (; r < count; r++)
        {
            double sum = 0;
            foreach (float v in contributions.AsSpan(r * f, f)) sum += v;
            scores[r] = sum / f;
        }
        return scores;
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        WriteScaler(writer);
        writer.Add("weights", w => _network.save(w));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _network.Dispose();
    }

    private sealed class KindImpl : IDetectorKind<AutoencoderHyperParameters>
    {
        public string Name => "ae";

        public string Description => "autoencoder over the feature vector (reconstruction error)";

        /// <summary>The loss's exponent, kept alive (<c>square()</c> makes an implicit Scalar that can be finalized during the
        /// native call: TorchSharpScalarLifetimeTests).</summary>
        private static readonly Scalar Two = 2;

        public AutoencoderHyperParameters DefaultHyperParameters { get; } = new();

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this);
            if (p.Hidden < 1 || p.Bottleneck < 1 || p.BatchSize < 1) throw new ArgumentException("streamdetect.models.ae: hidden, bottleneck and batch-size must be >= 1");
            var features = context.Features(p.MaxSamples);
            var scaler = FeatureScaler.Fit(features);
            var train = scaler.Transform(features.Values, features.Rows, p.Clip);
            var validationFeatures = context.Features(Math.Max(1, p.MaxSamples / 4), validation: true);
            var validation = scaler.Transform(validationFeatures.Values, validationFeatures.Rows, p.Clip);

            var network = TorchSeeding.Build(context.Options.Seed, () => new AutoencoderNetwork(FeatureSchema.Count, p.Hidden, p.Bottleneck));
            network.to(context.Device);
            FeatureNetworkTraining.Fit(Name, network, x => (network.call(x) - x).pow(Two).mean(),
                train, features.Rows, validation, validationFeatures.Rows,
                context.Epochs(p.Epochs), p.BatchSize, p.LearningRate, p.Patience, context);
            return new AutoencoderDetector(p with { Epochs = context.Epochs(p.Epochs) }, scaler, network, context.Device);
        }

        public AnomalyDetector Load(ModelFileReader file, Device device)
        {
            var p = file.ReadJson<AutoencoderHyperParameters>("hyperparameters");
            var network = new AutoencoderNetwork(FeatureSchema.Count, p.Hidden, p.Bottleneck);
            TorchWeights.Load(network, file, "weights");
            network.to(device);
            var detector = new AutoencoderDetector(p, ReadScaler(file), network, device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
