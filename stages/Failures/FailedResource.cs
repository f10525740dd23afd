namespace StreamDetect.Stages.Failures;

/// <summary>The part of the environment a run depends on and that failed; each has its own exit code.</summary>
public enum FailedResource
{
    /// <summary>The journal and snapshot store (SQLite file or PostgreSQL): exit code 3.</summary>
    Store,

    /// <summary>The Kafka cluster: an unreachable bootstrap, a missing topic, records lost to retention: exit code 4.</summary>
    Broker,

    /// <summary>The data directory is held by another run: exit code 5.</summary>
    DataDirectoryLocked,
}
