namespace StreamDetect.Models.Sequence;

/// <summary>The recurrent cell of a <see cref="RecurrentNextEventNetwork"/>.</summary>
public enum RecurrentCell
{
    Lstm,
    Gru,
}
