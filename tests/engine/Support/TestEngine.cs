using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;

namespace StreamDetect.Engine.Tests.Support;

/// <summary>Starts engine hosts for tests: in-memory or on a SQLite file in a temporary directory.</summary>
public sealed class TestEngine : IDisposable
{
    public TestEngine()
    {
        DataDirectory = Directory.CreateTempSubdirectory("sd-engine-test-").FullName;
    }

    public string DataDirectory { get; }

    public static Config Config(string store, string dataDirectory, string? extra = null) => EngineConfig.Load(null, $"""
        streamdetect.store.kind = {store}
        streamdetect.store.data-dir = "{dataDirectory.Replace("\\", "\\\\")}"
        {extra}
        """);

    public Task<EngineHost> StartAsync(string store = "memory", string? extra = null, bool cluster = true) =>
        EngineHost.StartAsync(Config(store, DataDirectory, extra), cluster, TestContext.Current.CancellationToken);

    public void Dispose()
    {
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // a SQLite file may still be mapped by a pooled connection; the OS temp cleaner gets it
        }
    }
}
