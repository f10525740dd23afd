using StreamDetect.Engine.Persistence;

namespace StreamDetect.Engine.Tests.Persistence;

public sealed class DataDirectoryMarkerTests
{
    [Fact]
    public void A_data_directory_cannot_be_reopened_with_another_partition_count()
    {
        string dir = Directory.CreateTempSubdirectory("sd-marker-").FullName;
        try
        {
            DataDirectoryMarker.EnsureCompatible(dir, 64, "sqlite");
            DataDirectoryMarker.EnsureCompatible(dir, 64, "sqlite");
            Assert.Equal(64, DataDirectoryMarker.ReadPartitions(dir));

            var error = Assert.Throws<InvalidOperationException>(() => DataDirectoryMarker.EnsureCompatible(dir, 128, "sqlite"));
            Assert.Contains("partitions = 64", error.Message);
            Assert.Contains("128", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_data_directory_cannot_be_reopened_with_the_other_user_hash()
    {
        string dir = Directory.CreateTempSubdirectory("sd-marker-").FullName;
        string stable = Directory.CreateTempSubdirectory("sd-marker-").FullName;
        try
        {
            DataDirectoryMarker.EnsureCompatible(dir, 64, "postgres", kafkaKeyed: true);
            DataDirectoryMarker.EnsureCompatible(dir, 64, "postgres", kafkaKeyed: true);
            Assert.True(DataDirectoryMarker.ReadKafkaKeyed(dir));
            var error = Assert.Throws<InvalidOperationException>(() => DataDirectoryMarker.EnsureCompatible(dir, 64, "postgres"));
            Assert.Contains("streamdetect.routing.colocate = on", error.Message);
            Assert.Contains("says off", error.Message);

            // A marker written before the switch existed (no user hash) is the stable hash.
            DataDirectoryMarker.EnsureCompatible(stable, 64, "sqlite");
            Assert.False(DataDirectoryMarker.ReadKafkaKeyed(stable));
            Assert.Throws<InvalidOperationException>(() => DataDirectoryMarker.EnsureCompatible(stable, 64, "sqlite", kafkaKeyed: true));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(stable, recursive: true);
        }
    }
}
