using StreamDetect.Engine.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Tests.Configuration;

/// <summary>Changes the process environment, so it runs alone (no other test may load configuration meanwhile).</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class EnvironmentOverlayKeyTests
{
    [Fact]
    public void A_misspelt_key_in_STREAMDETECT_HOCON_is_refused_naming_the_variable()
    {
        string? before = Environment.GetEnvironmentVariable(EngineConfig.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(EngineConfig.EnvironmentVariable, "streamdetect.store.data-dri = \"/var/lib/sd\"");
            var error = Assert.Throws<SettingsException>(() => EngineConfig.Load());
            Assert.Equal("setting 'streamdetect.store.data-dri' in $STREAMDETECT_HOCON: unknown key (did you mean 'data-dir'?)", error.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(EngineConfig.EnvironmentVariable, before);
        }
    }
}
