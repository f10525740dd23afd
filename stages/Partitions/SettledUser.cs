using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Stages.Partitions;

/// <summary>One scored and decided request, as settled with its partition.</summary>
/// <param name="Ticket">The request's ticket.</param>
/// <param name="ScoredThrough">The user's event count the request ended at (every event up to it is now scored and decided).</param>
/// <param name="State">The model's new per-user state, or null (a model without one).</param>
/// <param name="Alert">The user's alert state after the decisions (cooldown, last alert, open day).</param>
/// <param name="Alerts">The alerts decided for the request's events, oldest first (usually none).</param>
public sealed record SettledUser(string UserId, RequestTicket Ticket, long ScoredThrough, ModelStateSlot? State, UserAlertState Alert, IReadOnlyList<AlertRecord> Alerts);
