using Akka.Streams;
using Akka.Streams.Stage;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// The source stage over a <see cref="KafkaConsumerSession"/>: emits buffered records on demand and
/// materializes the session as the <see cref="IKafkaControl"/>.
/// </summary>
internal sealed class KafkaSourceStage : GraphStageWithMaterializedValue<SourceShape<CommittableRecord>, IKafkaControl>
{
    private readonly KafkaConsumerSettings _settings;
    private readonly bool _committable;

    public KafkaSourceStage(KafkaConsumerSettings settings, bool committable)
    {
        _settings = settings;
        _committable = committable;
        Shape = new SourceShape<CommittableRecord>(Out);
    }

    public Outlet<CommittableRecord> Out { get; } = new("KafkaSource.out");

    public override SourceShape<CommittableRecord> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("kafkaSource");

    public override ILogicAndMaterializedValue<IKafkaControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var session = new KafkaConsumerSession(_settings, _committable);
        return new LogicAndMaterializedValue<IKafkaControl>(new Logic(this, session), session);
    }

    private sealed class Logic : GraphStageLogic
    {
        private readonly KafkaSourceStage _stage;
        private readonly KafkaConsumerSession _session;

        public Logic(KafkaSourceStage stage, KafkaConsumerSession session) : base(stage.Shape)
        {
            _stage = stage;
            _session = session;
            SetHandler(stage.Out, onPull: TryPush, onDownstreamFinish: _ =>
            {
                _session.Shutdown();
                CompleteStage();
            });
        }

        public override void PreStart() =>
            _session.Start(Log, GetAsyncCallback(TryPush), GetAsyncCallback(CompleteStage), GetAsyncCallback<Exception>(FailStage));

        public override void PostStop() => _session.OnStageStopped();

        private void TryPush()
        {
            if (IsAvailable(_stage.Out) && _session.TryTake(out var record)) Push(_stage.Out, record);
        }
    }
}
