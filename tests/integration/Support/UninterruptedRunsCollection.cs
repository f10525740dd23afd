namespace StreamDetect.Integration.Tests.Support;

/// <summary>The test classes that share <see cref="UninterruptedRuns"/> (they run one after the other, as one collection).</summary>
[CollectionDefinition(Name)]
public sealed class UninterruptedRunsCollection : ICollectionFixture<UninterruptedRuns>
{
    public const string Name = "Uninterrupted runs";
}
