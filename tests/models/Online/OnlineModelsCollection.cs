namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// The online-learning tests share one trained champion and run one after another, and alone: the stress tests force
/// garbage collections, which makes the TorchSharp Scalar-lifetime defect strike any test training with optim.Adam
/// beside them (the fixture's GAN did), so this collection runs after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OnlineModelsCollection : ICollectionFixture<OnlineModels>
{
    public const string Name = "online models";
}
