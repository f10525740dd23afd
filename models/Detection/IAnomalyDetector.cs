using StreamDetect.Models.Calibration;
using TorchSharp;

namespace StreamDetect.Models.Detection;

/// <summary>
/// A trained anomaly detector. The streaming scorer calls <see cref="ScoreBatch"/> with one micro-batch
/// at a time (one forward pass per call, over every new event of the batch), stores each output's <see cref="ScoringOutput.NewState"/> in the
/// user's entity and passes it back next time. Not thread-safe: one batch at a time per instance.
/// </summary>
public interface IAnomalyDetector : IDisposable
{
    /// <summary>The registry name: lstm, gru, transformer, ae, gan, knn, zscore, iforest, novelty or ensemble.</summary>
    string Name { get; }

    /// <summary>Stable id of the trained model (a hash of its saved content): same weights, same id.</summary>
    string Version { get; }

    /// <summary>The <see cref="Features.ModelStateSlot.ModelKey"/> this detector writes ("name@version").</summary>
    string StateKey { get; }

    /// <summary>Whether the detector keeps per-user state (recurrent models, ensembles holding one).</summary>
    bool IsStateful { get; }

    /// <summary>Where the tensors live (cpu or cuda).</summary>
    torch.Device Device { get; }

    /// <summary>How raw scores map to <see cref="ScoringOutput.Score"/> (fitted on normal validation traffic).</summary>
    ScoreCalibration Calibration { get; }

    /// <summary>Alert thresholds on the calibrated scale for a wanted alert rate (fitted on normal validation users).</summary>
    AlertThreshold Threshold { get; }

    /// <summary>How the detector decides, in words for reports and alert explanations (a sequence model: calibrated
    /// surprise or DeepLog's top-k rule).</summary>
    string DecisionRule => "calibrated score at the wanted alert rate";

    /// <summary>Scores a batch of users: one output per input, same order, with one verdict per new event
    /// (<see cref="ScoringOutput.ScoreAt"/>), each equal to what scoring the user's events one at a time with
    /// the state passed along gives (see <see cref="ScoringInput"/> for the context the window must hold).
    /// A missing, foreign or stale state is rebuilt from the window. Inputs of one user must come in
    /// separate calls, in order.</summary>
    ScoringOutput[] ScoreBatch(IReadOnlyList<ScoringInput> batch);

    /// <summary>Writes the model file (hyper-parameters, vocabulary, feature schema version, weights, calibration).</summary>
    void Save(string path);
}
