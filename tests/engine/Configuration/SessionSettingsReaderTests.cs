using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Sessions;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Tests.Configuration;

/// <summary><c>streamdetect.sessions</c>: the shipped defaults, overlays, and bad values refused naming their key.</summary>
public sealed class SessionSettingsReaderTests
{
    private static Config With(string overlay) => ConfigurationFactory.ParseString(overlay).WithFallback(EngineConfig.Reference);

    [Fact]
    public void The_shipped_defaults_are_the_contract_defaults()
    {
        var read = SessionSettingsReader.Read(EngineConfig.Reference);
        Assert.Equal(SessionSettings.Default.GapMs, read.GapMs);
        Assert.Equal(SessionSettings.Default.EndTypes, read.EndTypes);
        Assert.Equal(SessionSettings.Default.SplitOnSessionField, read.SplitOnSessionField);
    }

    [Fact]
    public void An_overlay_sets_every_key()
    {
        var read = SessionSettingsReader.Read(With("streamdetect.sessions { gap = 90s, end-types = [logout, close], split-on-session-field = off }"));
        Assert.Equal(90_000L, read.GapMs);
        Assert.Equal(["logout", "close"], read.EndTypes);
        Assert.False(read.SplitOnSessionField);
        Assert.Empty(SessionSettingsReader.Read(With("streamdetect.sessions.end-types = []")).EndTypes);
    }

    [Theory]
    [InlineData("streamdetect.sessions.gap = 0s", "streamdetect.sessions.gap")]
    [InlineData("streamdetect.sessions.gap = soon", "streamdetect.sessions.gap")]
    [InlineData("streamdetect.sessions.end-types = logout", "streamdetect.sessions.end-types")]
    [InlineData("streamdetect.sessions.end-types = [\"\"]", "streamdetect.sessions.end-types")]
    [InlineData("streamdetect.sessions.split-on-session-field = maybe", "streamdetect.sessions.split-on-session-field")]
    public void A_bad_value_is_refused_in_one_line_naming_its_key(string overlay, string key)
    {
        var error = Assert.Throws<SettingsException>(() => SessionSettingsReader.Read(With(overlay)));
        Assert.Equal(key, error.Key);
        Assert.DoesNotContain('\n', error.Message);
    }
}
