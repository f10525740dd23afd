namespace StreamDetect.Stages.Failures;

/// <summary>
/// A failure of the environment the run depends on (store, broker, data directory), not of the user's
/// input nor a bug. Its message is one line that names the resource and the cause; the CLI prints it and
/// exits with the code of <see cref="Resource"/> (see README, "Exit codes").
/// </summary>
public sealed class EnvironmentFailureException(FailedResource resource, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public FailedResource Resource { get; } = resource;
}
