using StreamDetect.Engine.Configuration;

namespace StreamDetect.Engine.Tests.Configuration;

/// <summary>Changes the process environment, so it runs alone (no other test may load configuration meanwhile).</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class EnvironmentOverlayTests
{
    [Fact]
    public void STREAMDETECT_HOCON_overrides_files_and_a_broken_value_is_refused()
    {
        string? before = Environment.GetEnvironmentVariable(EngineConfig.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(EngineConfig.EnvironmentVariable, "streamdetect.routing.partitions = 7");
            Assert.Equal(7, StreamDetect.Stages.Routing.EntityRoutingSettings.Create(EngineConfig.Load()).Partitions);
            Environment.SetEnvironmentVariable(EngineConfig.EnvironmentVariable, "streamdetect { routing {");
            var error = Assert.Throws<ConfigFileException>(() => EngineConfig.Load());
            Assert.Contains("STREAMDETECT_HOCON", error.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(EngineConfig.EnvironmentVariable, before);
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "process environment";
}
