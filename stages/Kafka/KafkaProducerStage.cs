using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;
using StreamDetect.Stages.Failures;
using Error = Confluent.Kafka.Error;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Produces each element's record to one topic and emits its pass-through value once the broker has
/// acknowledged it (acks=all; in acknowledgement order, which differs from input order across partitions).
/// At most max-in-flight records are unacknowledged; beyond that upstream is backpressured. Completes
/// when upstream has completed and every record is acknowledged; fails with an
/// <see cref="EnvironmentFailureException"/> (exit code 4, one line naming the topic) on a delivery error
/// (librdkafka has already retried it, with backoff) or a fatal producer error.
/// </summary>
internal sealed class KafkaProducerStage<TPass> : GraphStage<FlowShape<(ProducerRecord Record, TPass PassThrough), TPass>>
{
    private readonly KafkaProducerSettings _settings;
    private readonly string _topic;

    public KafkaProducerStage(KafkaProducerSettings settings, string topic)
    {
        _settings = settings;
        _topic = topic;
        Shape = new FlowShape<(ProducerRecord, TPass), TPass>(In, Out);
    }

    public Inlet<(ProducerRecord Record, TPass PassThrough)> In { get; } = new("KafkaProducer.in");
    public Outlet<TPass> Out { get; } = new("KafkaProducer.out");

    public override FlowShape<(ProducerRecord Record, TPass PassThrough), TPass> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("kafkaProducer");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : GraphStageLogic
    {
        private readonly KafkaProducerStage<TPass> _stage;
        private readonly Queue<TPass> _acknowledged = new();
        private IProducer<byte[]?, byte[]>? _producer;
        private Action<(DeliveryReport<byte[]?, byte[]> Report, TPass PassThrough)> _onDelivery = _ => { };
        private int _inFlight;

        public Logic(KafkaProducerStage<TPass> stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, onPush: OnPush, onUpstreamFinish: MaybeComplete);
            SetHandler(stage.Out, onPull: OnPull);
        }

        public override void PreStart()
        {
            _onDelivery = GetAsyncCallback<(DeliveryReport<byte[]?, byte[]> Report, TPass PassThrough)>(OnDelivered);
            string topic = _stage._topic;
            string servers = _stage._settings.BootstrapServers;
            // A fatal error (the idempotent producer's state is lost) is the cluster's failure: exit code 4, one line.
            var onFatal = GetAsyncCallback<Error>(error => FailStage(new EnvironmentFailureException(FailedResource.Broker,
                $"kafka: the producer for topic '{topic}' at {servers} failed: {error.Reason} ({error.Code})", new KafkaException(error))));
            var log = Log;
            // A broker that is down makes librdkafka repeat the same error for every broker and reconnect.
            var filter = new RepeatedLogFilter(_stage._settings.Faults.LogRepeatInterval);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            _producer = new ProducerBuilder<byte[]?, byte[]>(_stage._settings.ToProducerConfig())
                .SetErrorHandler((_, error) =>
                {
                    if (error.IsFatal) onFatal(error);
                    else if (filter.ShouldLog(error.Reason, clock.Elapsed, out long heldBack))
                        log.Warning("Kafka producer for {0}: {1}{2}", topic, error.Reason, RepeatedLogFilter.Note(heldBack));
                })
                .SetLogHandler((_, message) =>
                {
                    if (message.Level <= SyslogLevel.Warning && filter.ShouldLog(message.Message, clock.Elapsed, out long heldBack))
                        log.Warning("librdkafka {0}: {1}{2}", message.Facility, message.Message, RepeatedLogFilter.Note(heldBack));
                })
                .Build();
            Pull(_stage.In);
        }

        public override void PostStop()
        {
            var producer = _producer;
            _producer = null;
            if (producer is null) return;
            var timeout = _stage._settings.FlushTimeout;
            // Normally nothing is outstanding here; after a failure or cancellation give the rest a bounded chance.
            _ = Task.Run(() =>
            {
                try
                {
                    producer.Flush(timeout);
                }
                finally
                {
                    producer.Dispose();
                }
            });
        }

        private void OnPush()
        {
            var (record, passThrough) = Grab(_stage.In);
            var message = new Message<byte[]?, byte[]>
            {
                Key = record.Key is null ? null : System.Text.Encoding.UTF8.GetBytes(record.Key),
                Value = record.Value,
            };
            if (record.Headers is { Count: > 0 } headers)
            {
                message.Headers = [];
                foreach (var (name, value) in headers) message.Headers.Add(name, System.Text.Encoding.UTF8.GetBytes(value));
            }
            var onDelivery = _onDelivery;
            try
            {
                _producer!.Produce(_stage._topic, message, report => onDelivery((report, passThrough)));
            }
            catch (KafkaException e)
            {
                // Refused before it was sent (a record over message.max.bytes, a topic the broker refused earlier): exit code 4, one line.
                FailStage(new EnvironmentFailureException(FailedResource.Broker,
                    $"kafka: a record for topic '{_stage._topic}' at {_stage._settings.BootstrapServers} could not be produced: {e.Error.Reason} ({e.Error.Code})", e));
                return;
            }
            _inFlight++;
            MaybePull();
        }

        private void OnDelivered((DeliveryReport<byte[]?, byte[]> Report, TPass PassThrough) delivery)
        {
            _inFlight--;
            var report = delivery.Report;
            if (report.Error.IsError)
            {
                // librdkafka has retried what can be retried (with backoff, without duplicates: idempotent). What is left
                // is the cluster's failure, one line and exit code 4: not delivered within message.timeout.ms (brokers
                // unreachable or refusing writes), or refused for good (authorization, a record too large, ...). The
                // alert stays pending in its user's state, so a rerun emits it again (with its id).
                FailStage(new EnvironmentFailureException(FailedResource.Broker, report.Error.Code == ErrorCode.Local_MsgTimedOut
                        ? $"kafka: records for topic '{_stage._topic}' at {_stage._settings.BootstrapServers} were not delivered within message.timeout.ms ({report.Error.Reason})"
                        : $"kafka: records for topic '{_stage._topic}' at {_stage._settings.BootstrapServers} were refused: {report.Error.Reason} ({report.Error.Code})",
                    new KafkaException(report.Error)));
                return;
            }
            if (IsAvailable(_stage.Out)) Push(_stage.Out, delivery.PassThrough);
            else _acknowledged.Enqueue(delivery.PassThrough);
            MaybePull();
            MaybeComplete();
        }

        private void OnPull()
        {
            if (_acknowledged.TryDequeue(out var next)) Push(_stage.Out, next);
            MaybePull();
            MaybeComplete();
        }

        private void MaybePull()
        {
            if (!IsClosed(_stage.In) && !HasBeenPulled(_stage.In) && _inFlight + _acknowledged.Count < _stage._settings.MaxInFlight)
                Pull(_stage.In);
        }

        private void MaybeComplete()
        {
            if (IsClosed(_stage.In) && _inFlight == 0 && _acknowledged.Count == 0) CompleteStage();
        }
    }
}
