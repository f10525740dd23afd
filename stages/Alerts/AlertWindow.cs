namespace StreamDetect.Stages.Alerts;

/// <summary>The user's recent events as an alert summarises them.</summary>
/// <param name="Events">Events in the window.</param>
/// <param name="FromMs">Time of the oldest.</param>
/// <param name="ToMs">Time of the newest.</param>
/// <param name="Types">Event count per type, most frequent first.</param>
/// <param name="UserEvents">The user's events ever (the window holds the last of them).</param>
/// <param name="Sequence">The window's event types, oldest first.</param>
public sealed record AlertWindow(int Events, long FromMs, long ToMs, IReadOnlyList<KeyValuePair<string, int>> Types, long UserEvents, IReadOnlyList<string> Sequence);
