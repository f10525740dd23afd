using StreamDetect.Engine.Persistence;

namespace StreamDetect.Engine.Tests.Persistence;

public sealed class StoreResetTests
{
    [Fact]
    public void A_reset_removes_the_database_its_wal_and_the_marker_and_keeps_saved_models()
    {
        string dir = Directory.CreateTempSubdirectory("sd-reset-").FullName;
        try
        {
            var store = StoreSettings.Create(StreamDetect.Engine.Configuration.EngineConfig.Load(null, $"streamdetect.store.data-dir = \"{dir}\""));
            DataDirectoryMarker.EnsureCompatible(dir, 64, "sqlite");
            File.WriteAllBytes(store.SqlitePath, new byte[4096]);
            File.WriteAllBytes(store.SqlitePath + "-wal", new byte[100]);
            Directory.CreateDirectory(Path.Combine(dir, "models"));
            File.WriteAllBytes(Path.Combine(dir, "models", "ensemble-1.sdm"), new byte[10]);

            Assert.True(StoreReset.Reset(store) >= 4196);
            Assert.False(File.Exists(store.SqlitePath));
            Assert.False(File.Exists(store.SqlitePath + "-wal"));
            Assert.Null(DataDirectoryMarker.ReadPartitions(dir));
            Assert.True(File.Exists(Path.Combine(dir, "models", "ensemble-1.sdm")));
            Assert.Equal(0, StoreReset.Reset(store));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_postgres_store_is_never_cleared()
    {
        var store = new StoreSettings { Kind = "postgres", PostgresConnectionString = "Host=db" };
        var error = Assert.Throws<InvalidOperationException>(() => StoreReset.Reset(store));
        Assert.Contains("streamdetect.store.kind = sqlite", error.Message);
    }
}
