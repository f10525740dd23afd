namespace StreamDetect.Engine.Entities;

/// <summary>Asks a user partition for one user's window (to explain an alert); answered with <see cref="UserWindow"/>.</summary>
public sealed record GetUserWindow(int Partition, string UserId);
