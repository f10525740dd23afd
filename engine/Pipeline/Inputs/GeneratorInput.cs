using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>The built-in generator's labelled traffic (<c>streamdetect.generator</c>): the same on every run.</summary>
public sealed class GeneratorInput : IEventInput
{
    public EventSourceKind Kind => EventSourceKind.Generator;

    public string Name => "generator";

    public bool SameOnEveryRun => true;

    public void Validate(RunPlan plan)
    {
        if (plan.Request.Input is not null) throw new UserInputException("--input is only read with --source file (the source is generator)");
        if (plan.Request.DeadLetterSink == Outputs.DeadLetterSinkKind.Kafka)
            throw new UserInputException("dead letters go to Kafka only with --source kafka; use --dead-letters FILE");
        var generator = GeneratorSettings.Create(plan.Config);
        if (plan.Request.ModelPath is null && !plan.Request.IngestOnly && plan.Run.TrainDays >= generator.Days)
            throw new UserInputException($"streamdetect.run.train-days ({plan.Run.TrainDays}) leaves nothing of the {generator.Days} generated days to evaluate");
    }

    public (IEnumerable<UserEvent> Events, long? CutMs) TrainingEvents(RunPlan plan)
    {
        var generator = GeneratorSettings.Create(plan.Config);
        long cut = new DateTimeOffset(DateTime.SpecifyKind(generator.Start, DateTimeKind.Utc)).ToUnixTimeMilliseconds() + (long)(plan.Run.TrainDays * 86_400_000);
        return (new TrafficGenerator(generator).Events().TakeWhile(e => e.TimestampMs < cut), cut);
    }

    public double? EvaluatedDays(RunPlan plan) => GeneratorSettings.Create(plan.Config).Days - plan.Run.TrainDays;

    public OpenedInput Open(RunPlan plan, InputContext context)
    {
        var settings = GeneratorSettings.Create(plan.Config);
        var generator = new TrafficGenerator(settings);
        return new OpenedInput(EventSources.FromGenerator(generator, context.Progress),
            $"generator ({settings.Users:N0} users, {settings.Days} days, seed {settings.Seed})", generator.Truth);
    }
}
