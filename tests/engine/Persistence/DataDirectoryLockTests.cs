using System.Text;
using StreamDetect.Engine.Persistence;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Tests.Persistence;

public sealed class DataDirectoryLockTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sd-lock-").FullName;

    private string LockFile => Path.Combine(_dir, DataDirectoryLock.FileName);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_lock_file_names_this_process_while_held_and_is_emptied_on_release()
    {
        var log = new StringWriter();
        using (DataDirectoryLock.Acquire(_dir, log))
        {
            Assert.StartsWith($"pid {Environment.ProcessId} on host {Environment.MachineName} since 20", DataDirectoryLock.RecordedHolder(_dir));
        }
        Assert.Null(DataDirectoryLock.RecordedHolder(_dir));
        Assert.Equal("", log.ToString());
    }

    [Fact]
    public void Parts_of_one_process_share_the_lock_and_the_last_one_releases_it()
    {
        var run = DataDirectoryLock.Acquire(_dir, TextWriter.Null);
        var host = DataDirectoryLock.Acquire(Path.Combine(_dir, "."), TextWriter.Null); // same directory, spelt otherwise
        host.Dispose();
        host.Dispose(); // twice: counted once
        Assert.NotNull(DataDirectoryLock.RecordedHolder(_dir));
        Assert.Throws<IOException>(() => new FileStream(LockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose());
        run.Dispose();
        Assert.Null(DataDirectoryLock.RecordedHolder(_dir));
        new FileStream(LockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
    }

    [Fact]
    public void A_directory_locked_by_another_holder_is_refused_naming_it()
    {
        // Another open file description with FileShare.None is another flock holder, as another process is.
        using (var other = new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            other.Write(Encoding.UTF8.GetBytes("{\"pid\":4242,\"host\":\"node-7\",\"since\":\"2026-11-27T10:00:00Z\"}\n"));
            other.Flush();
            var error = Assert.Throws<EnvironmentFailureException>(() => DataDirectoryLock.Acquire(_dir, TextWriter.Null));
            Assert.Equal(FailedResource.DataDirectoryLocked, error.Resource);
            Assert.Equal($"data directory '{_dir}' is in use by another run (pid 4242 on host node-7 since 2026-11-27T10:00:00Z); wait for it to end, or use another --data-dir",
                error.Message);
        }
        using var taken = DataDirectoryLock.Acquire(_dir, TextWriter.Null);
    }

    [Fact]
    public void A_stale_lock_file_is_taken_over_and_the_takeover_logged()
    {
        File.WriteAllText(LockFile, "{\"pid\":4242,\"host\":\"node-7\",\"since\":\"2026-11-27T10:00:00Z\"}\n");
        var log = new StringWriter();
        using (DataDirectoryLock.Acquire(_dir, log))
        {
            Assert.Contains($"pid {Environment.ProcessId} ", DataDirectoryLock.RecordedHolder(_dir));
        }
        Assert.Equal($"data directory '{_dir}': taking over the lock of a run that ended without releasing it (pid 4242 on host node-7 since 2026-11-27T10:00:00Z)",
            log.ToString().Trim());
    }

    [Fact]
    public void A_data_directory_that_cannot_be_created_is_a_user_error()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");
        var error = Assert.Throws<StreamDetect.Engine.Configuration.UserInputException>(() => DataDirectoryLock.Acquire(Path.Combine(file, "data"), TextWriter.Null));
        Assert.Contains("cannot create the lock file", error.Message);
    }
}
