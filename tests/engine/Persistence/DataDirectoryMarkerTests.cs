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
}
