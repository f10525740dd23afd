using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// Where analysts' verdicts come from while a run goes on: a JSON Lines file followed like tail -f
/// (<c>thresholds.feedback.file</c>) and, on a Kafka run, a topic (<c>kafka.feedback</c>). For every label
/// the user's alert state (segment and last alert) is asked of the user's partition, which owns it; then the
/// alert decider moves the thresholds.
/// </summary>
internal sealed class FeedbackInputs
{
    private readonly AlertDecider _decider;
    private readonly IActorRef _partitions;
    private readonly Func<string, int> _partitionOf;
    private readonly TextWriter _log;
    private readonly IKafkaControl? _topic;
    private readonly CancellationTokenSource _fileStop = new();
    private readonly Task? _file;

    private readonly Action<FeedbackLabel>? _observer;

    private FeedbackInputs(AlertDecider decider, IActorRef partitions, Func<string, int> partitionOf, TextWriter log, IKafkaControl? topic, string? filePath, TimeSpan pollInterval,
        Action<FeedbackLabel>? observer)
    {
        _observer = observer;
        _decider = decider;
        _partitions = partitions;
        _partitionOf = partitionOf;
        _log = log;
        _topic = topic;
        if (filePath is not null) _file = Task.Run(() => FollowAsync(filePath, pollInterval), CancellationToken.None);
    }

    /// <summary>Starts the configured inputs; null when none is configured. <paramref name="observer"/> (the online trainer) hears every label.</summary>
    public static FeedbackInputs? Start(Config config, ThresholdSettings thresholds, AlertDecider decider, IActorRef partitions, Func<string, int> partitionOf,
        bool kafkaRun, IMaterializer materializer, TextWriter log, Action<FeedbackLabel>? observer = null)
    {
        IKafkaControl? topic = null;
        if (kafkaRun && new SettingsReader(config, KafkaConsumerSettings.FeedbackPath).Bool("enabled"))
        {
            topic = FeedbackLabelSource.Create(KafkaConsumerSettings.Create(config, KafkaConsumerSettings.FeedbackPath))
                .SelectAsync(1, label => ApplyAsync(decider, partitions, partitionOf, label, observer))
                .To(Sink.Ignore<bool>())
                .Run(materializer);
        }
        string? file = thresholds.FeedbackFile is { Length: > 0 } path ? path : null;
        return topic is null && file is null ? null : new FeedbackInputs(decider, partitions, partitionOf, log, topic, file, thresholds.FeedbackPollInterval, observer);
    }

    /// <summary>Asks the user's partition for the user's alert state, then applies the label to the thresholds.</summary>
    private static async Task<bool> ApplyAsync(AlertDecider decider, IActorRef partitions, Func<string, int> partitionOf, FeedbackLabel label, Action<FeedbackLabel>? observer)
    {
        // The online trainer hears every label too (a positive purges the user's samples; a false alarm is learned).
        observer?.Invoke(label);
        UserAlertStateReply? state = null;
        try
        {
            state = await partitions.Ask<UserAlertStateReply>(new GetAlertState(partitionOf(label.UserId), label.UserId), TimeSpan.FromSeconds(30));
        }
        catch (AskTimeoutException)
        {
            // the partition did not answer: the label is counted as about a user not scored here
        }
        return decider.Apply(label, state is { Known: true } known ? known.State : null);
    }

    /// <summary>Stops reading and reports what the labels did.</summary>
    public async Task StopAsync()
    {
        if (_topic is not null) await _topic.Shutdown();
        _fileStop.Cancel();
        if (_file is not null) await _file;
        _fileStop.Dispose();
        _log.WriteLine($"feedback: {_decider.FeedbackApplied:N0} labels applied to thresholds, {_decider.FeedbackIgnored:N0} about users not scored here");
    }

    private async Task FollowAsync(string path, TimeSpan pollInterval)
    {
        var follower = new FeedbackFile(path, pollInterval);
        try
        {
            await foreach (var label in follower.Follow(_fileStop.Token)) await ApplyAsync(_decider, _partitions, _partitionOf, label, _observer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.WriteLine($"feedback file '{path}' can no longer be read ({e.Message}); thresholds keep the feedback so far");
        }
        if (follower.Invalid > 0) _log.WriteLine($"feedback file '{path}': {follower.Invalid:N0} invalid lines skipped");
    }
}
