using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;

namespace StreamDetect.Engine.Plans;

/// <summary>
/// Which node decides the model plans (issue 11): a cluster singleton (<see cref="ClusterSingletonManager"/>) whose
/// actor only marks the node it runs on as the decider. It runs on the oldest node with the trainer role
/// (<see cref="SharedPlanSettings.TrainerRole"/>, e.g. the GPU node) when a member has that role as the run starts, else
/// on the oldest node; when that node leaves, the manager hands the role over to the next. A node whose view of the
/// roles differed (it started before the trainer node joined) may run a second one: the store's first-writer-wins
/// rows (<see cref="ModelPlanStore.Decide"/>) keep every node on one plan per boundary even then.
/// </summary>
public sealed class PlanDeciderSingleton : IDisposable
{
    /// <summary>The manager's actor name (the same on every node, as the singleton needs).</summary>
    public const string ManagerName = "streamdetect-plan-decider";

    private readonly ActorSystem _system;
    private readonly IActorRef? _manager;
    private volatile bool _here;

    public PlanDeciderSingleton(ActorSystem system, string trainerRole)
    {
        _system = system;
        var cluster = Akka.Cluster.Cluster.Get(system);
        bool roleInCluster = cluster.State.Members.Any(m => m.Status == MemberStatus.Up && m.HasRole(trainerRole)) || cluster.SelfRoles.Contains(trainerRole);
        Role = roleInCluster ? trainerRole : null;
        // A manager runs only on the nodes that may hold the singleton.
        if (Role is not null && !cluster.SelfRoles.Contains(Role)) return;
        var settings = ClusterSingletonManagerSettings.Create(system).WithSingletonName("decider");
        if (Role is not null) settings = settings.WithRole(Role);
        _manager = system.ActorOf(ClusterSingletonManager.Props(Props.Create(() => new Decider(this)), PoisonPill.Instance, settings), ManagerName);
    }

    /// <summary>The role the singleton is placed by (null: every node, the oldest decides).</summary>
    public string? Role { get; }

    /// <summary>Whether the singleton runs on this node now.</summary>
    public bool IsDecider => _here;

    /// <summary>Raised (on an actor's thread) when this node becomes or stops being the decider.</summary>
    public event Action? Changed;

    public void Dispose()
    {
        if (_manager is not null && !_system.WhenTerminated.IsCompleted) _system.Stop(_manager);
    }

    private void Set(bool here)
    {
        _here = here;
        Changed?.Invoke();
    }

    private sealed class Decider : UntypedActor
    {
        private readonly PlanDeciderSingleton _owner;

        public Decider(PlanDeciderSingleton owner) => _owner = owner;

        protected override void PreStart() => _owner.Set(true);

        protected override void PostStop() => _owner.Set(false);

        protected override void OnReceive(object message) => Unhandled(message);
    }
}
