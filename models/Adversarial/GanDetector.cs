using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Scaling;
using StreamDetect.Models.Tensors;
using StreamDetect.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Adversarial;

/// <summary>
/// GAN over normal feature vectors; the critic's verdict is the anomaly score (raw = -logit of "normal").
/// The generator learns to imitate normal windows; the critic learns to tell normal windows from the
/// generator's samples and — because a critic facing a good generator stops discriminating — from normal
/// windows pushed off the data manifold by noise (<see cref="GanHyperParameters.OffManifoldShare"/>).
/// Explanation: gradient × input saliency of the critic score per feature. Fixed epoch count (GAN losses
/// are not a convergence signal); the validation loss reported is the critic's on held-out normal vs
/// off-manifold rows.
/// </summary>
public sealed class GanDetector : FeatureDetector
{
    private readonly GanHyperParameters _parameters;
    private readonly GanGeneratorNetwork _generator;
    private readonly GanCriticNetwork _critic;

    private GanDetector(GanHyperParameters parameters, FeatureScaler scaler, GanGeneratorNetwork generator, GanCriticNetwork critic, Device device)
        : base("gan", device, scaler, parameters.Clip, parameters.ExplainTop)
    {
        _parameters = parameters;
        _generator = generator;
        _critic = critic;
        _generator.eval();
        _critic.eval();
        foreach (var parameter in _critic.parameters()) parameter.requires_grad = false;
    }

    public static IDetectorKind<GanHyperParameters> Kind { get; } = new KindImpl();

    protected override double[] ScoreScaled(float[] scaled, int count, float[] contributions)
    {
        int f = FeatureSchema.Count;
        float[] scores;
        using (var scope = NewDisposeScope())
        using (inference_mode(false)) // the saliency needs autograd even when the caller scores under inference mode
        using (enable_grad())
        {
            var x = TensorTransfer.ToTensor(scaled.AsSpan(0, count * f), [count, f], Device).requires_grad_(true);
            var score = _critic.call(x).neg();
            score.sum().backward();
            TensorTransfer.CopyTo((x.grad! * x).abs(), contributions);
            scores = TensorTransfer.ToFloatArray(score.detach());
        }
        return scores.Select(s => (double)s).ToArray();
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        WriteScaler(writer);
        writer.Add("generator", w => _generator.save(w));
        writer.Add("critic", w => _critic.save(w));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _generator.Dispose();
            _critic.Dispose();
        }
    }

    private sealed class KindImpl : IDetectorKind<GanHyperParameters>
    {
        public string Name => "gan";

        public string Description => "GAN over the feature vector (critic score)";

        public GanHyperParameters DefaultHyperParameters { get; } = new();

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this);
            if (p.Latent < 1 || p.Hidden < 2 || p.BatchSize < 2 || p.OffManifoldShare is < 0 or > 1)
                throw new ArgumentException("streamdetect.models.gan: latent >= 1, hidden >= 2, batch-size >= 2, off-manifold-share in [0, 1]");
            int f = FeatureSchema.Count;
            var features = context.Features(p.MaxSamples);
            var scaler = FeatureScaler.Fit(features);
            var train = scaler.Transform(features.Values, features.Rows, p.Clip);
            var validationFeatures = context.Features(Math.Max(1, p.MaxSamples / 4), validation: true);
            var validation = scaler.Transform(validationFeatures.Values, validationFeatures.Rows, p.Clip);
            var device = context.Device;

            var (generator, critic) = TorchSeeding.Build(context.Options.Seed, () => (new GanGeneratorNetwork(p.Latent, p.Hidden, f), new GanCriticNetwork(f, p.Hidden)));
            using var draws = TorchSeeding.Generator(context.Options.Seed, Name);
            Tensor Noise(long rows, long columns) => randn([rows, columns], generator: draws).to(device);
            generator.to(device);
            critic.to(device);
            using var generatorOptimizer = new ScalarSafeAdam(generator.parameters(), p.LearningRate, beta1: 0.5);
            using var criticOptimizer = new ScalarSafeAdam(critic.parameters(), p.LearningRate, beta1: 0.5);
            using var all = tensor(train, [features.Rows, f], device: device);
            using var held = tensor(validation, [validationFeatures.Rows, f], device: device);
            var random = context.Random(Name);
            var order = Enumerable.Range(0, features.Rows).Select(i => (long)i).ToArray();
            int epochs = context.Epochs(p.Epochs);
            for (int epoch = 1; epoch <= epochs; epoch++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                generator.train();
                critic.train();
                random.Shuffle(order);
                using var permutation = tensor(order, device: device);
                double criticSum = 0, generatorSum = 0;
                int batches = 0;
                for (int start = 0; start < features.Rows; start += p.BatchSize)
                {
                    using var scope = NewDisposeScope();
                    int b = (int)Math.Min(p.BatchSize, features.Rows - start);
                    var real = all.index_select(0, permutation.narrow(0, start, b));
                    int offCount = (int)Math.Round(b * p.OffManifoldShare);
                    Tensor fake;
                    using (no_grad()) fake = generator.call(Noise(b - offCount, p.Latent));
                    var negatives = offCount > 0 ? cat([fake, OffManifold(real.narrow(0, 0, offCount), p, draws)], 0) : fake;

                    criticOptimizer.ZeroGrad();
                    var criticLoss = nn.functional.binary_cross_entropy_with_logits(critic.call(real), full(b, RealLabel, device: device))
                        .add(nn.functional.binary_cross_entropy_with_logits(critic.call(negatives), zeros(negatives.shape[0], device: device)), One);
                    criticLoss.backward();
                    criticOptimizer.Step();

                    generatorOptimizer.ZeroGrad();
                    var generated = generator.call(Noise(b, p.Latent));
                    var generatorLoss = nn.functional.binary_cross_entropy_with_logits(critic.call(generated), ones(b, device: device));
                    generatorLoss.backward();
                    generatorOptimizer.Step();

                    criticSum += criticLoss.item<float>();
                    generatorSum += generatorLoss.item<float>();
                    batches++;
                }
                double validationLoss;
                critic.eval();
                using (var scope = NewDisposeScope())
                using (no_grad())
                {
                    var off = OffManifold(held, p, draws);
                    validationLoss = nn.functional.binary_cross_entropy_with_logits(critic.call(held), ones(held.shape[0], device: device))
                        .add(nn.functional.binary_cross_entropy_with_logits(critic.call(off), zeros(off.shape[0], device: device)), One).item<float>();
                }
                context.Report(Name, epoch, epochs, criticSum / Math.Max(1, batches), validationLoss,
                    $"generator loss {generatorSum / Math.Max(1, batches):F4}");
            }
            return new GanDetector(p with { Epochs = epochs }, scaler, generator, critic, device);
        }

        /// <summary>
        /// Normal rows pushed off the manifold, clipped like inputs: half get Gaussian noise of a random scale
        /// (up to NoiseScale) on every feature, half a large shift (2 to 3 x NoiseScale, either sign) on a few
        /// features each (each feature with probability 3/F): abuse moves a few behaviours a lot, and a critic
        /// that only learned "noisy everywhere = fake" would call such rows normal.
        /// </summary>
        private static Tensor OffManifold(Tensor rows, GanHyperParameters p, torch.Generator draws)
        {
            long n = rows.shape[0], f = rows.shape[1];
            // The arithmetic of `(rand * (s - 0.25) + 0.25)`, `x < 3.0 / f`, `randint * 2 - 1`, `a + b`, `clamp(-c, c)`
            // with explicit Scalars held until the native calls return (the operators make implicit ones, which the GC
            // can finalize during the call: TorchSharpScalarLifetimeTests). Same operations, same draws, same order.
            using var noiseRange = (p.NoiseScale - 0.25).ToScalar();
            using var quarter = 0.25.ToScalar();
            using var pickShare = (3.0 / f).ToScalar();
            using var noiseScale = p.NoiseScale.ToScalar();
            using var twiceNoiseScale = (2 * p.NoiseScale).ToScalar();
            using var two = 2.ToScalar();
            using var oneInt = 1.ToScalar();
            using var oneHalf = 0.5.ToScalar();
            using var low = (-p.Clip).ToScalar();
            using var high = p.Clip.ToScalar();
            var scale = rand([n, 1], generator: draws).mul(noiseRange).add(quarter, One).to(rows.device);
            var dense = rows.add(randn(rows.shape, generator: draws).to(rows.device).mul(scale), One);
            var picked = rand(rows.shape, generator: draws).lt(pickShare).to(ScalarType.Float32).to(rows.device);
            var magnitude = rand(rows.shape, generator: draws).mul(noiseScale).add(twiceNoiseScale, One);
            var sign = randint(0, 2, rows.shape, generator: draws).mul(two).sub(oneInt);
            var shift = magnitude.mul(sign).to(rows.device);
            var sparse = rows.add(picked.mul(shift), One);
            var half = rand([n, 1], generator: draws).lt(oneHalf).to(rows.device);
            return torch.where(half, dense, sparse).clamp(low, high);
        }

        /// <summary>Kept alive for the training's label and additions (see <see cref="OffManifold"/>).</summary>
        private static readonly Scalar RealLabel = 0.9f;

        private static readonly Scalar One = 1;

        public AnomalyDetector Load(ModelFileReader file, Device device)
        {
            var p = file.ReadJson<GanHyperParameters>("hyperparameters");
            var generator = new GanGeneratorNetwork(p.Latent, p.Hidden, FeatureSchema.Count);
            var critic = new GanCriticNetwork(FeatureSchema.Count, p.Hidden);
            TorchWeights.Load(generator, file, "generator");
            TorchWeights.Load(critic, file, "critic");
            generator.to(device);
            critic.to(device);
            var detector = new GanDetector(p, ReadScaler(file), generator, critic, device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
