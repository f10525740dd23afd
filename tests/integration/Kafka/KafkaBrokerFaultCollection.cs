namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>
/// The broker fault tests: each starts its own mock cluster (errors are injected cluster-wide) and an engine process
/// whose outage and retry timings are measured, so they run alone, after the parallel collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KafkaBrokerFaultCollection : ICollectionFixture<KafkaFaultModelFixture>
{
    public const string Name = "Kafka broker faults";
}
