namespace StreamDetect.Models.Sequence;

/// <summary>
/// A training piece of one user's token sequence: events [Start, Start + Length), with the loss taken
/// from position <see cref="LossFrom"/> on (earlier positions only build context). A chunk that does not
/// start at the user's first event sees its first event's predecessor as unknown, as a window that was
/// rebuilt in the stream does.
/// </summary>
public readonly record struct SequenceChunk(int User, int Start, int Length, int LossFrom)
{
    public int LossEvents => Length - LossFrom;
}
