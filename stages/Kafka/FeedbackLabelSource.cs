using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Feedback labels from a Kafka topic (settings block <c>streamdetect.kafka.feedback</c>), parsed and
/// validated. Advisory data: offsets are auto-committed as records are read (a crash may skip a few
/// labels, never stops the stream); invalid records are logged (position and reason) and dropped.
/// </summary>
public static class FeedbackLabelSource
{
    public static Source<FeedbackLabel, IKafkaControl> Create(KafkaConsumerSettings settings) =>
        KafkaConsumerSource.PlainSource(settings).Via(new ParseStage());

    private sealed class ParseStage : GraphStage<FlowShape<KafkaRecord, FeedbackLabel>>
    {
        public ParseStage() => Shape = new FlowShape<KafkaRecord, FeedbackLabel>(In, Out);

        public Inlet<KafkaRecord> In { get; } = new("FeedbackLabels.in");
        public Outlet<FeedbackLabel> Out { get; } = new("FeedbackLabels.out");
        public override FlowShape<KafkaRecord, FeedbackLabel> Shape { get; }
        protected override Attributes InitialAttributes { get; } = Attributes.CreateName("feedbackLabels");

        protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

        private sealed class Logic : GraphStageLogic
        {
            private long _invalid;

            public Logic(ParseStage stage) : base(stage.Shape)
            {
                SetHandler(stage.In, onPush: () =>
                {
                    var record = Grab(stage.In);
                    var label = FeedbackLabelParser.TryParse(record.Raw.Bytes.Span, out string? error);
                    if (label is not null)
                    {
                        Push(stage.Out, label);
                        return;
                    }
                    _invalid++;
                    Log.Warning("Feedback record {0} dropped: {1} ({2} invalid so far)", record.Position, error, _invalid);
                    Pull(stage.In);
                });
                SetHandler(stage.Out, onPull: () => Pull(stage.In));
            }
        }
    }
}
