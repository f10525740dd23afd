using StreamDetect.Models.Features;

namespace StreamDetect.Engine.Entities;

/// <summary>A user's window (oldest first) and total event count; empty when the partition does not know the user.</summary>
public sealed record UserWindow(string UserId, IReadOnlyList<WindowEntry> Window, long EventCount);
