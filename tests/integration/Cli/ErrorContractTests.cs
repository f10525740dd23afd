using System.Text.Json;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>
/// The one error contract of every command (README, "Exit codes"), as a user meets it: the engine as a
/// separate process, each mistake refused with its documented exit code and exactly one line on stderr,
/// before any work (no data directory made, no training, no benchmark phase), and nothing on stdout.
/// </summary>
public sealed class ErrorContractTests(TrainedModelFixture trained) : IClassFixture<TrainedModelFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_csv_file_with_a_wrong_header_is_refused_before_any_work_naming_the_file_and_its_columns(bool withModel)
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("bad.csv"), "a,b,c\n1,2,3\n", TestContext.Current.CancellationToken);
        string[] arguments = ["run", "--input", "bad.csv", "--data-dir", "data", .. withModel ? new[] { "--model", trained.Model } : []];

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, arguments);

        AssertRefused(code, stdout, stderr, 2, "input file 'bad.csv'", "CSV header lacks userId", "found columns: a,b,c");
        Assert.False(Directory.Exists(dir.File("data")), "refused before the engine started");
    }

    [Theory]
    [InlineData("train --data bad.csv --model zscore --out m.sdm")]
    [InlineData("eval --data bad.csv --model MODEL")]
    public async Task Train_and_eval_refuse_a_csv_file_with_a_wrong_header_in_one_line(string arguments)
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("bad.csv"), "a,b,c\n1,2,3\n", TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, arguments.Replace("MODEL", trained.Model).Split(' '));

        AssertRefused(code, stdout, stderr, 2, "--data 'bad.csv'", "CSV header lacks userId");
    }

    [Theory]
    [InlineData("run")]
    [InlineData("bench")]
    public async Task A_corrupt_model_file_is_refused_before_any_work_naming_the_file(string command)
    {
        using var dir = new TempDirectory();
        byte[] whole = await File.ReadAllBytesAsync(trained.Model, TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(dir.File("cut.sdm"), whole[..(whole.Length / 2)], TestContext.Current.CancellationToken);
        string[] arguments = command == "run"
            ? ["run", "--input", trained.Traffic, "--model", "cut.sdm", "--data-dir", "data"]
            : ["bench", "--users", "200", "--days", "2", "--model", "cut.sdm"];

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, arguments);

        // For bench the single line also says that its ingest phase never ran (it prints "bench: ingest ...").
        AssertRefused(code, stdout, stderr, 2, "model file 'cut.sdm'", "truncated");
        Assert.False(Directory.Exists(dir.File("data")));
    }

    [Theory]
    [InlineData("run", "streamdetect.models.ensemble.members = [gru, zscor]", "setting 'streamdetect.models.ensemble.members': unknown model 'zscor'")]
    [InlineData("run", "streamdetect.run.model = lstn", "setting 'streamdetect.run.model': unknown model 'lstn'")]
    [InlineData("bench", "streamdetect.run.model = lstn", "setting 'streamdetect.run.model': unknown model 'lstn'")]
    [InlineData("bench", "streamdetect.models.ensemble.members = [gru, zscor]", "setting 'streamdetect.models.ensemble.members': unknown model 'zscor'")]
    public async Task An_unknown_model_name_in_an_overlay_is_refused_before_any_work_naming_the_key(string command, string setting, string expected)
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("overlay.conf"), $"streamdetect.generator {{ users = 300, days = 3 }}\nstreamdetect.run.train-days = 1\n{setting}\n", TestContext.Current.CancellationToken);
        string[] arguments = command == "run"
            ? ["run", "--config", "overlay.conf", "--data-dir", "data"]
            : ["bench", "--config", "overlay.conf", "--users", "300", "--days", "3"];

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, arguments);

        AssertRefused(code, stdout, stderr, 2, expected, "(known: lstm, gru,");
        Assert.False(Directory.Exists(dir.File("data")), "refused before traffic was generated or a model trained");
    }

    [Theory]
    [InlineData("champion-out-of-band-ratio = 7", "champion-out-of-band-ratio")]
    [InlineData("canary-scenario-significance = 2", "canary-scenario-significance")]
    [InlineData("shared-plans.follower-timeout = banana", "shared-plans.follower-timeout")]
    [InlineData("shared-plans.enabled = on\nstreamdetect.store.kind = memory", "shared-plans.enabled = on needs a store")]
    public async Task A_bad_online_learning_setting_is_refused_before_the_start_up_training_naming_the_key(string setting, string expected)
    {
        // Without --model the run trains its model on its first day first (a minute at the default size): every
        // online-learning setting must be checked before that, as the others are.
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("overlay.conf"),
            $"streamdetect.generator {{ users = 300, days = 3 }}\nstreamdetect.run.train-days = 1\nstreamdetect.online-learning.enabled = on\nstreamdetect.online-learning.{setting}\n",
            TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "run", "--config", "overlay.conf", "--data-dir", "data");

        AssertRefused(code, stdout, stderr, 2, $"streamdetect.online-learning.{expected}");
        Assert.False(Directory.Exists(dir.File("data")), "refused before traffic was generated or a model trained");
    }

    [Fact]
    public async Task Eval_online_refuses_a_bad_online_learning_setting_before_it_reads_the_data_naming_the_key()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("overlay.conf"), "streamdetect.online-learning.band-high = 0\n", TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "eval", "--online", "--data", trained.Traffic, "--model", trained.Model, "--skip-days", "1", "--config", "overlay.conf");

        // One line: not even the "read N events" line of the data comes first.
        AssertRefused(code, stdout, stderr, 2, "streamdetect.online-learning.band-high", "must be above band-low");
    }

    [Theory]
    [InlineData("run")]
    [InlineData("bench")]
    public async Task A_bad_decision_mode_is_refused_before_any_work_naming_the_key_even_with_a_loaded_model(string command)
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("overlay.conf"), "streamdetect.models.lstm.decision = deeplog\n", TestContext.Current.CancellationToken);
        string[] arguments = command == "run"
            ? ["run", "--input", trained.Traffic, "--model", trained.Model, "--data-dir", "data", "--config", "overlay.conf"]
            : ["bench", "--users", "200", "--days", "2", "--model", trained.Model, "--config", "overlay.conf"];

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, arguments);

        AssertRefused(code, stdout, stderr, 2, "streamdetect.models.lstm.decision", "'deeplog' is not one of: surprise, top-k");
        Assert.False(Directory.Exists(dir.File("data")));
    }

    [Theory]
    [InlineData("run")]
    [InlineData("bench")]
    public async Task A_bad_OTLP_protocol_is_refused_before_any_work_naming_the_key(string command)
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("overlay.conf"), "streamdetect.metrics.otlp { enabled = on, protocol = thrift }\n", TestContext.Current.CancellationToken);
        string[] arguments = command == "run"
            ? ["run", "--input", trained.Traffic, "--model", trained.Model, "--data-dir", "data", "--config", "overlay.conf"]
            : ["bench", "--users", "200", "--days", "2", "--model", trained.Model, "--config", "overlay.conf"];

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, arguments);

        AssertRefused(code, stdout, stderr, 2, "streamdetect.metrics.otlp.protocol", "'thrift' is not one of: grpc, http/protobuf");
        Assert.False(Directory.Exists(dir.File("data")));
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("store file")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_read_only_data_directory_is_refused_before_any_work_in_one_line_naming_it(string readOnly)
    {
        SkipWithoutFilePermissions();
        using var dir = new TempDirectory();
        string data = dir.File("data");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "streamdetect.db"), "", TestContext.Current.CancellationToken); // an empty file is an empty SQLite database
        string target = readOnly == "directory" ? data : Path.Combine(data, "streamdetect.db");
        File.SetUnixFileMode(target, readOnly == "directory"
            ? UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
            : UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        try
        {
            using var engine = StartWithFilePermissions(dir.Path, "run", "--input", trained.Traffic, "--model", trained.Model, "--data-dir", "data");
            int code = await engine.WaitAsync(Timeout);

            string expected = readOnly == "directory" ? "data directory 'data' (--data-dir, streamdetect.store.data-dir) is not writable" : "'streamdetect.db' is not writable";
            AssertRefused(code, engine.Stdout, engine.Stderr, 2, expected);
        }
        finally
        {
            File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Theory]
    [InlineData("--summary-json")]
    [InlineData("--alerts")]
    [InlineData("--dead-letters")]
    [InlineData("--dump-features")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task An_output_file_in_a_read_only_directory_is_refused_before_any_work_naming_the_option(string option)
    {
        SkipWithoutFilePermissions();
        using var dir = new TempDirectory();
        string readOnly = dir.File("out");
        Directory.CreateDirectory(readOnly);
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            using var engine = StartWithFilePermissions(dir.Path, "run", "--input", trained.Traffic, "--model", trained.Model, "--data-dir", "data", option, "out/file.jsonl");
            int code = await engine.WaitAsync(Timeout);

            AssertRefused(code, engine.Stdout, engine.Stderr, 2, $"{option} 'out/file.jsonl' cannot be written");
            Assert.False(Directory.Exists(dir.File("data")), "refused before the engine started");
        }
        finally
        {
            File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Theory]
    [InlineData("run --foo", "error: unknown option '--foo' (see streamdetect run --help)")]
    [InlineData("state dump --data-dir data --out x.jsonl --bogus", "error: unknown option '--bogus' (see streamdetect state dump --help)")]
    [InlineData("frobnicate", "error: unknown command 'frobnicate' (see streamdetect --help)")]
    [InlineData("bench --users many", "error: Cannot parse argument 'many' for option '--users'")]
    [InlineData("bench --online-learning maybe", "error: --online-learning must be on or off (got 'maybe')")]
    [InlineData("run --stop-after-idle soon", "error: Cannot parse argument 'soon' for option '--stop-after-idle' as a number (see streamdetect run --help)")]
    [InlineData("gen --users 100 --drift-share 0.5 --drift-day 7 --out x.jsonl", "error: --drift-day must be a day after the first and before the end of the 7-day period, in [1, 6] (got 7)")]
    [InlineData("gen --users 100 --drift-pace fast --out x.jsonl", "error: --drift-pace 'fast' is not a number")]
    [InlineData("gen --users 100 --days 3 --poisoning-rate 0.1 --out x.jsonl", "error: streamdetect.generator.poisoning.strike-day must be a day after the first and before the end of the 3-day period, in [1, 2] (got 5)")]
    [InlineData("gen --users 100 --poisoning-rate 2 --out x.jsonl", "error: --poisoning-rate must be a fraction in [0, 1] (got 2)")]
    public async Task A_command_line_that_does_not_parse_is_one_line_naming_the_option_not_the_help(string arguments, string expected)
    {
        var (code, stdout, stderr) = await EngineProcess.RunAsync(null, Timeout, arguments.Split(' '));

        AssertRefused(code, stdout, stderr, 2, expected);
        Assert.StartsWith(expected, stderr);
        Assert.DoesNotContain("System.", stderr);
    }

    [Theory]
    [InlineData("--drift-day 3", "gen: warning: --drift-day has no effect: drift is off")]
    [InlineData("--drift-pace 0.5", "gen: warning: --drift-pace has no effect: drift is off")]
    [InlineData("--poisoning-strike-day 3", "gen: warning: --poisoning-strike-day has no effect: poisoning is off")]
    public async Task A_scenario_family_option_given_while_its_family_is_off_is_warned_about(string option, string expected)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, ["gen", "--users", "20", "--days", "5", "--out", "x.jsonl", .. option.Split(' ')]);

        Assert.Equal(0, code);
        Assert.Equal("", stdout);
        Assert.Contains(expected, stderr);
    }

    [Theory]
    [InlineData("--bootstrap 127.0.0.1:9092", "--bootstrap applies to --source kafka")]
    [InlineData("--topic events", "--topic applies to --source kafka only")]
    [InlineData("--group g", "--group applies to --source kafka only")]
    public async Task A_kafka_option_on_a_run_that_reads_no_topic_is_refused_not_ignored(string option, string expected)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, ["run", "--input", "x.jsonl", .. option.Split(' ')]);

        AssertRefused(code, stdout, stderr, 2, expected);
    }

    [Fact]
    public async Task Verbose_adds_the_stack_trace_after_the_one_error_line()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("bad.csv"), "a,b,c\n", TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "run", "--input", "bad.csv", "--verbose");

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("error: input file 'bad.csv': CSV header lacks", lines[0]);
        Assert.Contains(lines, l => l.TrimStart().StartsWith("at StreamDetect.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("TERM", 143, "stopped by SIGTERM before the end", "streaming")]
    [InlineData("INT", 130, "interrupted before the end", "streaming")]
    [InlineData("TERM", 143, "stopped by SIGTERM before the end", "training")]
    public async Task A_generator_run_stopped_by_a_signal_exits_with_its_code_and_stdout_holds_only_alerts(string signal, int expectedCode, string lastLine, string phase)
    {
        using var dir = new TempDirectory();
        // Far more traffic than the run gets through before the signal.
        await File.WriteAllTextAsync(dir.File("big.conf"), "streamdetect.generator { users = 20000, days = 3 }\nstreamdetect.run.train-days = 2\n", TestContext.Current.CancellationToken);
        string[] modelOption = phase == "streaming" ? ["--model", trained.Model] : [];
        using var engine = EngineProcess.Start(dir.Path, ["run", "--config", "big.conf", "--data-dir", "data", .. modelOption]);
        // Streaming: the first alert is out (the first progress line, which said so before, comes only after 10 s).
        await WaitForAsync(() => phase == "streaming" ? engine.Stdout.Contains("\"alertId\"", StringComparison.Ordinal) : engine.Stderr.Contains("[training] ", StringComparison.Ordinal),
            TimeSpan.FromMinutes(2), () => engine.Stderr);

        if (signal == "TERM") engine.Terminate();
        else engine.Interrupt();
        int code = await engine.WaitAsync(Timeout);

        Assert.True(code == expectedCode, $"exit code {code}; stderr:\n{engine.Stderr}");
        Assert.Equal(lastLine, engine.Stderr.TrimEnd().Split('\n')[^1]);
        // An ordinary stop: the stream ends before the scorer and the engine go, so no stage fails under them.
        Assert.DoesNotContain("[ERROR]", engine.Stderr);
        AssertOnlyAlerts(engine.Stdout);
    }

    [Fact]
    public async Task A_run_with_online_learning_stopped_by_SIGTERM_mid_stream_stops_without_waiting_for_its_trainer()
    {
        using var dir = new TempDirectory();
        // The model trained in the run (a loaded one has no anchors: online learning would be off), boundaries every 2 h
        // of event time, far more traffic than the run gets through before the signal.
        await File.WriteAllTextAsync(dir.File("online.conf"),
            "streamdetect.generator { users = 3000, days = 4 }\nstreamdetect.run.train-days = 1\nstreamdetect.run.model = zscore\n" +
            "streamdetect.online-learning.cadence = 2h\n", TestContext.Current.CancellationToken);
        using var engine = EngineProcess.Start(dir.Path, ["run", "--config", "online.conf", "--online-learning", "on", "--data-dir", "data"]);
        // Streaming, with the trainer resolving boundaries: the stream has admitted events past the next one.
        await WaitForAsync(() => engine.Stderr.Contains("online learning: round 1 ", StringComparison.Ordinal), TimeSpan.FromMinutes(2), () => engine.Stderr);

        engine.Terminate();
        int code = await engine.WaitAsync(Timeout);

        // The trainer waited for a boundary the stopped stream would never decide, and the run for the trainer, until the
        // process gave up 60 s after the signal ("error: the command did not stop within 60 s of the signal; exiting").
        Assert.True(code == 143, $"exit code {code}; stderr:\n{engine.Stderr}");
        Assert.Equal("stopped by SIGTERM before the end", engine.Stderr.TrimEnd().Split('\n')[^1]);
        AssertOnlyAlerts(engine.Stdout);
    }

    [Theory]
    [InlineData("--alerts")]
    [InlineData("--dump-features")]
    public async Task An_output_file_that_fails_mid_run_is_named_with_its_option_not_taken_for_the_input(string option)
    {
        Assert.SkipUnless(File.Exists("/dev/full"), "no /dev/full (every write fails with 'no space left on device')");
        using var dir = new TempDirectory();
        string[] output = option == "--alerts" ? ["--alerts", "/dev/full"] : ["--alerts", "alerts.jsonl", "--dump-features", "/dev/full"];

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, ["run", "--input", trained.Traffic, "--model", trained.Model, "--data-dir", "data", .. output]);

        // Before: "error: cannot read 'TRAFFIC': No space left on device : '/dev/full'" (the run's catch-all for I/O errors).
        Assert.True(code == 2, $"exit code {code}; stderr:\n{stderr}");
        Assert.StartsWith($"error: {option} '/dev/full': cannot write: ", stderr.TrimEnd().Split('\n')[^1]);
        Assert.Equal("", stdout);
    }

    private static bool Root => Environment.UserName == "root";

    /// <summary>root writes through file permissions: its engine runs without the capabilities that allow that (setpriv).</summary>
    private static void SkipWithoutFilePermissions() =>
        Assert.SkipWhen(Root && !File.Exists("/usr/bin/setpriv"), "running as root without setpriv: a read-only directory cannot be made");

    private static EngineProcess StartWithFilePermissions(string directory, params string[] arguments) => Root
        ? EngineProcess.StartVia(["/usr/bin/setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"], directory, arguments)
        : EngineProcess.Start(directory, arguments);

    /// <summary>Every line of stdout is an alert (JSON with an alertId): no log line, no report.</summary>
    internal static void AssertOnlyAlerts(string stdout)
    {
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var alert = JsonDocument.Parse(line);
            Assert.StartsWith("al-", alert.RootElement.GetProperty("alertId").GetString());
        }
    }

    /// <summary>The documented exit code, exactly one line on stderr (an error naming the problem), nothing on stdout.</summary>
    private static void AssertRefused(int code, string stdout, string stderr, int expectedCode, params string[] expected)
    {
        Assert.True(code == expectedCode, $"exit code {code}; stderr:\n{stderr}");
        Assert.Equal("", stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        foreach (string part in expected) Assert.Contains(part, line);
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"condition not met within {timeout}; stderr:\n{describe()}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
