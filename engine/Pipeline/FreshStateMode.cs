namespace StreamDetect.Engine.Pipeline;

/// <summary><c>streamdetect.run.fresh-state</c>: whether a run first removes the per-user state an earlier run left.</summary>
public enum FreshStateMode
{
    /// <summary>Only for an input that is the same on every run (the generator), and only with SQLite.</summary>
    Auto,

    /// <summary>Always (refused for PostgreSQL).</summary>
    On,

    /// <summary>Never: resume from the state.</summary>
    Off,
}
