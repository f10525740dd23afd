using System.Reflection;
using StreamDetect.Engine.Cli;
using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Persistence;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Tests.Cli;

public sealed class CommandRunnerTests
{
    [Fact]
    public void An_unexpected_exception_is_one_line_with_the_type_and_message_of_its_root_cause_and_exit_code_1()
    {
        var wrapped = new AggregateException(new TargetInvocationException(new InvalidOperationException("the scorer is gone\nsecond line")));

        var (code, line) = CommandRunner.Describe(wrapped, stopping: false, signalExitCode: null);

        Assert.Equal(1, code);
        Assert.StartsWith("error: System.InvalidOperationException: the scorer is gone second line", line);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public void A_failure_inside_a_type_initializer_is_unwrapped_to_its_cause()
    {
        var failure = new AggregateException(new TypeInitializationException("StreamDetect.X", new EnvironmentFailureException(FailedResource.Store, "store 'data/streamdetect.db': disk full")));

        Assert.Equal((3, "error: store 'data/streamdetect.db': disk full"), CommandRunner.Describe(failure, false, null));
    }

    public static TheoryData<Exception, int, string> Failures() => new()
    {
        { new UserInputException("input file 'x.csv' does not exist"), 2, "error: input file 'x.csv' does not exist" },
        { new SettingsException("streamdetect.run.model", "unknown model 'lstn'"), 2, "error: setting 'streamdetect.run.model': unknown model 'lstn'" },
        { new ConfigFileException("a.conf", "not valid HOCON"), 2, "error: config file 'a.conf': not valid HOCON" },
        { new ModelFileException("m.sdm", "is truncated"), 2, "error: model file 'm.sdm': is truncated" },
        { new AggregateException(new UnauthorizedAccessException("Access to the path '/ro/alerts.jsonl' is denied.")), 2, "error: Access to the path '/ro/alerts.jsonl' is denied." },
        { new EnvironmentFailureException(FailedResource.Broker, "Kafka at localhost:1: unreachable"), 4, "error: Kafka at localhost:1: unreachable" },
        { new EnvironmentFailureException(FailedResource.DataDirectoryLocked, "data directory 'data' is held by pid 7"), 5, "error: data directory 'data' is held by pid 7" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Each_kind_of_failure_has_its_documented_exit_code_and_one_line(Exception failure, int code, string line)
    {
        Assert.Equal((code, line), CommandRunner.Describe(failure, stopping: false, signalExitCode: null));
    }

    [Theory]
    [InlineData(143, 143, "stopped by SIGTERM before the end")]
    [InlineData(130, 130, "interrupted before the end")]
    [InlineData(null, 130, "interrupted before the end")]
    public void Whatever_a_stopping_command_throws_exits_with_the_signals_code(int? signal, int code, string line)
    {
        var teardown = new AggregateException(new InvalidOperationException("The collection has been marked as complete with regards to additions."));

        Assert.Equal((code, line), CommandRunner.Describe(teardown, stopping: true, signalExitCode: signal));
    }
}
