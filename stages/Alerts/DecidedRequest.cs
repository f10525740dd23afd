using StreamDetect.Models.Detection;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Alerts;

/// <summary>A scored request after every one of its events was decided: what the partition must settle.</summary>
/// <param name="Model">The model@version that scored it.</param>
/// <param name="Alert">The user's alert state after the request's last event.</param>
/// <param name="Alerts">The alerts decided, oldest first (usually none).</param>
public sealed record DecidedRequest(ScoringRequest Request, ScoringOutput Output, string Model, UserAlertState Alert, IReadOnlyList<AlertRecord> Alerts);
