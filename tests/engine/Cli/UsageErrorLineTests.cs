using StreamDetect.Engine.Cli;

namespace StreamDetect.Engine.Tests.Cli;

public sealed class UsageErrorLineTests
{
    [Theory]
    [InlineData("run --foo", "error: unknown option '--foo' (see streamdetect run --help)")]
    [InlineData("state dump --out x --bogus", "error: unknown option '--bogus' (see streamdetect state dump --help)")]
    [InlineData("frobnicate", "error: unknown command 'frobnicate' (see streamdetect --help)")]
    [InlineData("state", "error: Required command was not provided (see streamdetect state --help)")]
    [InlineData("gen extra", "error: unexpected argument 'extra' (see streamdetect gen --help)")]
    [InlineData("bench --users many", "error: Cannot parse argument 'many' for option '--users' as a whole number (see streamdetect bench --help)")]
    public void A_command_line_that_does_not_parse_is_one_line_naming_the_first_problem_and_the_help(string arguments, string expected)
    {
        var parse = StreamDetectCli.Build().Parse(arguments.Split(' '));

        Assert.NotEmpty(parse.Errors);
        Assert.Equal(expected, UsageErrorLine.For(parse));
    }
}
