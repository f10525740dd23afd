using StreamDetect.Models.Features;

namespace StreamDetect.Models.Detection;

/// <summary>
/// The verdicts of one scored batch, one row per new event (inputs one after another, each input's events
/// oldest first), in arrays shared by the batch's <see cref="ScoringOutput"/>s: a detector fills the rows,
/// then cuts one output per input. Detailed explanations are stored only for the rows that have one; the
/// array holding them is made on the first, so every row is filled before the first output is cut.
/// </summary>
internal sealed class ScoringOutputBuffer
{
    private readonly string _model;
    private readonly double[] _scores;
    private readonly double[] _rawScores;
    private Explanation?[]? _explained;
    private bool _cut;

    public ScoringOutputBuffer(string model, int rows)
    {
        _model = model;
        _scores = new double[rows];
        _rawScores = new double[rows];
    }

    /// <summary>Row offsets of a batch's inputs: input i's events are rows <c>[offsets[i], offsets[i + 1])</c>.</summary>
    public static int[] RowOffsets(IReadOnlyList<ScoringInput> batch)
    {
        var offsets = new int[batch.Count + 1];
        for (int i = 0; i < batch.Count; i++) offsets[i + 1] = checked(offsets[i] + batch[i].NewEvents);
        return offsets;
    }

    public int Rows => _scores.Length;

    /// <summary>Sets a row's raw and calibrated score.</summary>
    public void Set(int row, double rawScore, double score)
    {
        _rawScores[row] = rawScore;
        _scores[row] = score;
    }

    public double ScoreOf(int row) => _scores[row];

    /// <summary>Stores a row's detailed explanation.</summary>
    public void Explain(int row, Explanation explanation)
    {
        if (_cut) throw new InvalidOperationException("a row was explained after outputs were cut");
        (_explained ??= new Explanation?[_scores.Length])[row] = explanation;
    }

    /// <summary>The output of the input whose events are rows <c>[offset, offset + count)</c>.</summary>
    public ScoringOutput Output(int offset, int count, ModelStateSlot? newState, ScoringOutput[]? members = null)
    {
        _cut = true;
        return new ScoringOutput(_model, _scores, _rawScores, _explained, offset, count, newState, members);
    }
}
