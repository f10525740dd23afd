using System.Diagnostics;
using System.Text;

namespace StreamDetect.Integration.Tests.Support;

/// <summary>Runs the `streamdetect` executable as a separate process, as a user would.</summary>
public sealed class EngineProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EngineProcess(IEnumerable<string> arguments, string? workingDirectory, IReadOnlyList<string>? launcher = null, bool redirectInput = false,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(launcher is { Count: > 0 } ? launcher[0] : "dotnet")
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (launcher is { Count: > 0 })
        {
            foreach (string argument in launcher.Skip(1)) info.ArgumentList.Add(argument);
            info.ArgumentList.Add("dotnet");
        }
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "streamdetect.dll"));
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data, _stdoutDone);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data, _stderrDone);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static EngineProcess Start(string? workingDirectory, params string[] arguments) => new(arguments, workingDirectory);

    /// <summary>Starts with these environment variables set (on top of the test's own).</summary>
    public static EngineProcess StartWithEnvironment(string? workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        new(arguments, workingDirectory, environment: environment);

    /// <summary>Starts with stdin a pipe the test writes to (<see cref="StandardInput"/>); the engine reads on until it is closed.</summary>
    public static EngineProcess StartWithInput(string? workingDirectory, params string[] arguments) => new(arguments, workingDirectory, redirectInput: true);

    /// <summary>The engine's stdin, when started with <see cref="StartWithInput"/>.</summary>
    public StreamWriter StandardInput => _process.StandardInput;

    /// <summary>Starts `dotnet streamdetect.dll ARGUMENTS` through a launcher (e.g. <c>setpriv ... --</c>), given as program and arguments.</summary>
    public static EngineProcess StartVia(IReadOnlyList<string> launcher, string? workingDirectory, params string[] arguments) =>
        new(arguments, workingDirectory, launcher);

    /// <summary>Runs to completion and returns (exit code, stdout, stderr).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        using var process = Start(workingDirectory, arguments);
        int code = await process.WaitAsync(timeout);
        return (code, process.Stdout, process.Stderr);
    }

    public int Id => _process.Id;

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"streamdetect did not finish within {timeout}; stderr so far:\n{Stderr}");
        }
        await Task.WhenAll(_stdoutDone.Task, _stderrDone.Task).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as `docker stop` sends it: the engine should stop cleanly.</summary>
    public void Terminate() => Signal("TERM");

    /// <summary>SIGINT, as Ctrl-C in a terminal sends it.</summary>
    public void Interrupt() => Signal("INT");

    private void Signal(string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{name}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit(10_000);
    }

    /// <summary>SIGKILL: no shutdown code runs (the `kill -9` of the recovery tests).</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private static void Append(StringBuilder buffer, string? line, TaskCompletionSource done)
    {
        if (line is null)
        {
            done.TrySetResult();
            return;
        }
        lock (buffer) buffer.AppendLine(line);
    }
}
