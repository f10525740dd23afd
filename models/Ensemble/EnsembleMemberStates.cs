using StreamDetect.Models.Detection;

namespace StreamDetect.Models.Ensemble;

/// <summary>
/// Where one stateful member of an ensemble reads and writes its per-user states in place, inside the ensemble's own
/// packed slots (a length per member, then the members' values; see <see cref="EnsembleDetector"/>). Scoring through
/// it saves two state arrays per user and member per batch (the member's slice of the kept slot and the member's own
/// new state, which the ensemble then copied into its packed slot): the member reads its kept state where the
/// ensemble's slot holds it and writes its new state straight into the ensemble's new slot. The layout and every
/// value are those the copies gave.
/// </summary>
internal sealed class EnsembleMemberStates
{
    private readonly IReadOnlyList<ScoringInput> _batch;
    private readonly string _ensembleKey;
    private readonly int _member, _members;
    private readonly float[][] _destinations;
    private readonly int _destinationOffset, _length;

    /// <param name="batch">The ensemble's batch (its inputs carry the ensemble's slots).</param>
    /// <param name="ensembleKey">The ensemble's state key: a slot under another key is not read.</param>
    /// <param name="member">This member's index.</param>
    /// <param name="members">How many members the ensemble has (the header's length).</param>
    /// <param name="destinations">Each input's new packed slot values, header already written.</param>
    /// <param name="destinationOffset">Where this member's values start in each destination.</param>
    /// <param name="length">This member's state length (the same for every user).</param>
    public EnsembleMemberStates(IReadOnlyList<ScoringInput> batch, string ensembleKey, int member, int members,
        float[][] destinations, int destinationOffset, int length)
    {
        _batch = batch;
        _ensembleKey = ensembleKey;
        _member = member;
        _members = members;
        _destinations = destinations;
        _destinationOffset = destinationOffset;
        _length = length;
    }

    /// <summary>
    /// Input <paramref name="i"/>'s kept state for this member when the ensemble's slot holds one of exactly
    /// <see cref="AnomalyDetector.MemberStateLength"/> values that has folded every event before the new ones (the
    /// checks the member makes of a slot of its own); empty otherwise (the member rebuilds it from the window).
    /// </summary>
    public bool TryKept(int i, out ReadOnlySpan<float> kept)
    {
        kept = default;
        var input = _batch[i];
        if (input.State is not { } slot || slot.ModelKey != _ensembleKey) return false;
        var values = slot.Values;
        if (values.Length < _members) return false;
        int at = _members;
        for (int m = 0; m < _member; m++) at += (int)values[m];
        int length = (int)values[_member];
        if (length <= 0 || at + length > values.Length) return false;
        if (length != _length || slot.EventsFolded != input.EventCount - input.NewEvents) return false;
        kept = values.AsSpan(at, length);
        return true;
    }

    /// <summary>Where input <paramref name="i"/>'s new state for this member goes (every value must be written).</summary>
    public Span<float> Destination(int i) => _destinations[i].AsSpan(_destinationOffset, _length);
}
