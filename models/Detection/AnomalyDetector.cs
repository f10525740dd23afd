using StreamDetect.Models.Calibration;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using TorchSharp;

namespace StreamDetect.Models.Detection;

/// <summary>
/// Shared plumbing of every detector: calibration and threshold, the content-hash version, input
/// validation and the model file layout. A detector supplies its raw scoring and its own sections.
/// </summary>
public abstract class AnomalyDetector : IAnomalyDetector
{
    private string? _version;
    private string? _stateKey;
    private bool _disposed;

    protected AnomalyDetector(string name, torch.Device device)
    {
        Name = name;
        Device = device;
    }

    public string Name { get; }

    public string Version => _version ??= ToFile().ContentHash();

    // Kept: an ensemble asks its stateful members for it once per user of every batch.
    public string StateKey => _stateKey ??= $"{Name}@{Version}";

    public virtual bool IsStateful => false;

    public torch.Device Device { get; }

    public ScoreCalibration Calibration { get; private set; } = ScoreCalibration.Identity;

    public AlertThreshold Threshold { get; private set; } = AlertThreshold.None;

    /// <summary>
    /// Events whose calibrated score is below this get a plain explanation (model and raw score, no events
    /// or features listed, nothing stored: <see cref="ScoringOutput.ExplanationAt"/>): explanations are for
    /// alerts, and building them for every normal event costs more than scoring. 0 explains everything. An
    /// ensemble passes its value to its members.
    /// </summary>
    public virtual double ExplainFrom { get; set; } = 2.0;

    /// <summary><see cref="ExplainFrom"/>, or the score of the detector's own decision rule when that alerts below it
    /// (a sequence model in top-k mode), so that every alert of the rule is explained.</summary>
    protected double ExplainFromOrRule => Threshold.DecisionScore is double rule ? Math.Min(ExplainFrom, rule) : ExplainFrom;

    public ScoringOutput[] ScoreBatch(IReadOnlyList<ScoringInput> batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) return [];
        foreach (var input in batch) input.Validate();
        return Score(batch);
    }

    /// <summary>Scores a validated, non-empty batch: one output per input, one verdict per new event.</summary>
    protected abstract ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch);

    /// <summary>The length of the per-user state a stateful detector keeps, when it is the same for every user and the
    /// detector can score as an ensemble member with its states in the ensemble's slots (<see cref="ScoreAsMember"/>); 0 otherwise.</summary>
    internal virtual int MemberStateLength => 0;

    /// <summary>
    /// Scores an ensemble's validated, non-empty batch as one of its members: the kept states are read from, and the
    /// new ones written into, the ensemble's slots (<paramref name="states"/>); the outputs carry no state of their own.
    /// The verdicts are those <see cref="ScoreBatch"/> gives on the member's own slots. Only for a detector whose
    /// <see cref="MemberStateLength"/> is above 0.
    /// </summary>
    internal virtual ScoringOutput[] ScoreAsMember(IReadOnlyList<ScoringInput> batch, Ensemble.EnsembleMemberStates states) =>
        throw new NotSupportedException($"{Name} does not score its states inside an ensemble's slots");

    /// <summary>Checks that the detector is not disposed (for entry points that skip <see cref="ScoreBatch"/>).</summary>
    protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Sets the fitted calibration and threshold (which changes <see cref="Version"/>).</summary>
    internal void SetCalibration(ScoreCalibration calibration, AlertThreshold threshold)
    {
        Calibration = calibration;
        Threshold = threshold;
        _version = null;
        _stateKey = null;
    }

    /// <summary>Fits calibration and threshold from the raw scores of a replay over normal validation users, whose
    /// activity (<paramref name="activity"/>) the threshold keeps. The ensemble overrides this to calibrate its members first.</summary>
    internal virtual void FitCalibration(IReadOnlyList<CalibrationSample> samples, CalibrationOptions options, EntityActivity activity)
    {
        var calibration = CalibrationSample.Fit(samples, options, TailScaleFloor);
        var maxima = CalibrationSample.UserDayMaxima(samples, calibration.Map);
        SetCalibration(calibration, AlertThreshold.Fit(maxima, activity,
            DecisionRawScore is double raw ? calibration.Map(raw) : null));
    }

    /// <summary>
    /// The least rise of the raw score per e-fold of rarity that the calibration's tail may claim beyond the validation
    /// sample (0: whatever the sample's top excesses say). A score that is a log-probability knows its own tail: a
    /// next-event model's surprise -ln p is at least s with probability at most (number of types) x e^-s per event if the
    /// model is right about its probabilities, so one more nat is at most e times rarer, never the thousands of times an
    /// exponential fitted to a compact top of the sample may claim (a gru's fitted tail made a normal user's one 8-nat
    /// surprise "1 in 10^9" and put it above attackers that the feature members score at 10^-7). Calibrations fitted
    /// before this floor keep their tail.
    /// </summary>
    internal virtual double TailScaleFloor => 0;

    /// <summary>The raw score from which the detector's own decision rule alerts, whatever the wanted rate (a
    /// sequence model in top-k mode: an event outside the k most likely); null when the wanted rate decides.</summary>
    protected virtual double? DecisionRawScore => null;

    /// <summary>How the detector decides, in words for reports and alert explanations.</summary>
    public virtual string DecisionRule => "calibrated score at the wanted alert rate";

    public void Save(string path) => ToFile().Save(path);

    /// <summary>The model file content.</summary>
    internal ModelFileWriter ToFile()
    {
        var writer = new ModelFileWriter(Name, FeatureSchema.Version);
        WriteSections(writer);
        writer.Add("calibration", Calibration.WriteTo);
        writer.Add("threshold", Threshold.WriteTo);
        return writer;
    }

    /// <summary>Writes the detector's own sections (hyper-parameters, tokenizer, weights, ...).</summary>
    protected abstract void WriteSections(ModelFileWriter writer);

    /// <summary>Reads the calibration and threshold written by <see cref="ToFile"/>.</summary>
    protected void ReadCalibration(ModelFileReader reader) =>
        SetCalibration(reader.Read("calibration", ScoreCalibration.ReadFrom), reader.Read("threshold", AlertThreshold.ReadFrom));

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
