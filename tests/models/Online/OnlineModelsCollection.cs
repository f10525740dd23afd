namespace StreamDetect.Models.Tests.Online;

/// <summary>The online-learning tests share one trained champion and run one after another (the stress test's timing).</summary>
[CollectionDefinition(Name)]
public sealed class OnlineModelsCollection : ICollectionFixture<OnlineModels>
{
    public const string Name = "online models";
}
