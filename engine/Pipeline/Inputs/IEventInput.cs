using StreamDetect.Models.Events;

namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>
/// One kind of input `run` can read. Registered in <see cref="EventInputs"/> under its HOCON name; adding a
/// source is one class implementing this, its test, and its HOCON block.
/// </summary>
public interface IEventInput
{
    EventSourceKind Kind { get; }

    /// <summary>The name in <c>streamdetect.source</c> and <c>run --source</c>.</summary>
    string Name { get; }

    /// <summary>Whether the input is the same on every run (a run on it starts from fresh state by default: see <c>run.fresh-state</c>).</summary>
    bool SameOnEveryRun { get; }

    /// <summary>Checks the run's options against this input; throws <c>UserInputException</c> naming the problem.</summary>
    void Validate(RunPlan plan);

    /// <summary>
    /// The events to train on when the run was given no model, and where training ends (null: train-days after
    /// the first event's midnight). Throws <c>UserInputException</c> for an input that cannot be trained on.
    /// </summary>
    (IEnumerable<UserEvent> Events, long? CutMs) TrainingEvents(RunPlan plan);

    /// <summary>Days evaluated after training, when the input knows its length (the thresholds' period); null otherwise.</summary>
    double? EvaluatedDays(RunPlan plan);

    /// <summary>Opens the input for the run's stream.</summary>
    OpenedInput Open(RunPlan plan, InputContext context);
}
