namespace StreamDetect.Models.Sessions;

/// <summary>
/// When a session ends (HOCON <c>streamdetect.sessions</c>): after an inactivity gap in event time, right after an
/// explicit end event (e.g. <c>logout</c>), or when the event's <c>session</c> field changes.
/// </summary>
/// <param name="GapMs">Inactivity in event time after which the open session is closed (milliseconds, &gt; 0).</param>
/// <param name="EndTypes">Event types that close the session right after themselves (e.g. logout); may be empty.</param>
/// <param name="SplitOnSessionField">Whether a change of the event's <c>session</c> field closes the open session.</param>
public sealed record SessionSettings(long GapMs, IReadOnlyList<string> EndTypes, bool SplitOnSessionField)
{
    /// <summary>30 minutes, logout ends a session, a new <c>session</c> value starts one.</summary>
    public static SessionSettings Default { get; } = new(30 * 60 * 1000, ["logout"], true);

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (GapMs <= 0) throw new ArgumentException($"streamdetect.sessions.gap must be positive, got {GapMs} ms");
        foreach (string type in EndTypes)
        {
            if (string.IsNullOrWhiteSpace(type)) throw new ArgumentException("streamdetect.sessions.end-types holds an empty type");
        }
    }
}
