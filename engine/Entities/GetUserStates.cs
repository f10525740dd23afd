namespace StreamDetect.Engine.Entities;

/// <summary>Asks a user partition (on this node) for a copy of every user's state; answered with <see cref="UserStates"/>.</summary>
public sealed record GetUserStates(int Partition);
