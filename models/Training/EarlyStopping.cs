using static TorchSharp.torch;

namespace StreamDetect.Models.Training;

/// <summary>
/// Stops training when the validation loss has not improved for <c>patience</c> epochs and keeps the
/// weights of the best epoch (as a serialized snapshot) to restore at the end.
/// </summary>
internal sealed class EarlyStopping(int patience)
{
    private byte[]? _best;
    private int _epochsWithoutImprovement;

    public double BestLoss { get; private set; } = double.PositiveInfinity;

    public int BestEpoch { get; private set; }

    /// <summary>Records an epoch's validation loss; returns true when training should stop.</summary>
    public bool Update(int epoch, double validationLoss, nn.Module module)
    {
        if (double.IsPositiveInfinity(BestLoss) || validationLoss < BestLoss - 1e-6 * Math.Abs(BestLoss))
        {
            BestLoss = validationLoss;
            BestEpoch = epoch;
            _epochsWithoutImprovement = 0;
            using var stream = new MemoryStream();
            module.save(stream);
            _best = stream.ToArray();
            return false;
        }
        return ++_epochsWithoutImprovement >= patience;
    }

    /// <summary>Puts the best epoch's weights back.</summary>
    public void RestoreBest(nn.Module module)
    {
        if (_best is null) return;
        using var stream = new MemoryStream(_best, writable: false);
        module.load(stream);
    }
}
