using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>
/// Logs (Akka's, librdkafka's through Akka, the engine's) never reach stdout, which is the alert stream
/// of a run without --alerts: they go to stderr, or to streamdetect.logging.file; akka.loglevel sets how
/// many there are.
/// </summary>
public sealed class LogOutputTests(TrainedModelFixture model) : IClassFixture<TrainedModelFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task With_alerts_on_stdout_the_log_lines_go_to_stderr_and_stdout_holds_only_alerts()
    {
        using var dir = new TempDirectory();
        // INFO: Akka logs the remoting and cluster start-up, so there are log lines on every run.
        await File.WriteAllTextAsync(dir.File("info.conf"), "akka.loglevel = INFO\n", TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "run", "--config", "info.conf", "--input", model.Traffic, "--model", model.Model, "--data-dir", "data");

        Assert.True(code == 0, stderr);
        Assert.NotEmpty(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        ErrorContractTests.AssertOnlyAlerts(stdout);
        Assert.Contains(stderr.Split('\n'), l => l.StartsWith("[INFO][", StringComparison.Ordinal) && l.Contains("Remoting started", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_log_file_set_in_hocon_receives_the_log_lines_instead_of_stderr()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("log.conf"), "akka.loglevel = INFO\nstreamdetect.logging.file = \"engine.log\"\n", TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "run", "--config", "log.conf", "--input", model.Traffic, "--model", model.Model, "--data-dir", "data");

        Assert.True(code == 0, stderr);
        ErrorContractTests.AssertOnlyAlerts(stdout);
        string log = await File.ReadAllTextAsync(dir.File("engine.log"), TestContext.Current.CancellationToken);
        Assert.Contains("[INFO][", log);
        Assert.Contains("Remoting started", log);
        // Only what Akka logs after its loggers stopped (the last shutdown steps) goes to stderr.
        Assert.DoesNotContain("Remoting started", stderr);
    }

    [Fact]
    public async Task At_the_default_level_a_clean_run_logs_nothing_and_its_report_goes_to_stderr()
    {
        using var dir = new TempDirectory();

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "run", "--input", model.Traffic, "--model", model.Model, "--data-dir", "data");

        Assert.True(code == 0, stderr);
        ErrorContractTests.AssertOnlyAlerts(stdout);
        Assert.Contains("events valid", stderr);
        Assert.DoesNotContain("[INFO][", stderr);
    }
}
