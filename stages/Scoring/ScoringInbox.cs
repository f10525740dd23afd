using Akka.Actor;
using StreamDetect.Stages.Partitions;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// A stream's scoring inbox: the actor user partitions send requests to when they could not hand them out
/// with a batch answer (<see cref="FollowUps"/>), and tell about events another stream now scores
/// (<see cref="HandedOver"/>). It only passes them on to the loop's <see cref="ScoringContext"/>.
/// </summary>
public sealed class ScoringInbox : ReceiveActor
{
    public ScoringInbox(ScoringContext context)
    {
        Receive<FollowUps>(f => context.AddFollowUps(f.Requests));
        Receive<HandedOver>(h =>
        {
            foreach (long key in h.Keys) context.Ledger.Dropped(key);
            context.WakeAll();
        });
    }

    public static Props Props(ScoringContext context) => Akka.Actor.Props.Create(() => new ScoringInbox(context));
}
