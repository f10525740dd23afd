using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;

namespace StreamDetect.Engine.Plans;

/// <summary>
/// The broadcast of decided boundaries (issue 11): the deciding node publishes the boundary key (a plain
/// <see cref="long"/>, Akka's primitive serializer) on a DistributedPubSub topic once its plan is in the store, and every
/// node that listens is woken to read it from there. The store stays the source of truth: a node that missed a notice
/// (it subscribed late, the message was lost) finds the plan when it polls (<see cref="SharedPlanSettings.Poll"/>).
/// </summary>
public sealed class PlanNotices : IDisposable
{
    /// <summary>The DistributedPubSub topic.</summary>
    public const string Topic = "streamdetect-model-plans";

    private readonly ActorSystem _system;
    private readonly IActorRef _mediator;
    private readonly IActorRef _listener;
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="heard">Called (on an actor's thread: enqueue or signal only) with each boundary another node decided.</param>
    public PlanNotices(ActorSystem system, Action<long> heard)
    {
        _system = system;
        _mediator = DistributedPubSub.Get(system).Mediator;
        _listener = system.ActorOf(Props.Create(() => new Listener(_mediator, heard, _subscribed)));
    }

    /// <summary>Completes once the topic's subscription is acknowledged here (it then spreads to the other nodes by gossip).</summary>
    public Task Subscribed => _subscribed.Task;

    /// <summary>Tells every listening node that the plan of <paramref name="boundary"/> is in the store.</summary>
    public void Publish(long boundary) => _mediator.Tell(new Publish(Topic, boundary));

    public void Dispose()
    {
        if (!_system.WhenTerminated.IsCompleted) _system.Stop(_listener);
    }

    private sealed class Listener : ReceiveActor
    {
        private readonly IActorRef _mediator;

        public Listener(IActorRef mediator, Action<long> heard, TaskCompletionSource subscribed)
        {
            _mediator = mediator;
            Receive<long>(heard);
            Receive<SubscribeAck>(_ => subscribed.TrySetResult());
        }

        protected override void PreStart() => _mediator.Tell(new Subscribe(Topic, Self));

        protected override void PostStop() => _mediator.Tell(new Unsubscribe(Topic, Self));
    }
}
