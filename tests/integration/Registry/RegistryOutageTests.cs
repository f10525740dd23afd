using Npgsql;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Registry;
using StreamDetect.Integration.Tests.Persistence;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Integration.Tests.Registry;

/// <summary>The registry through a PostgreSQL outage (a TCP proxy the test cuts): retried within give-up-after, then one line naming the setting.</summary>
public sealed class RegistryOutageTests(RegistryModels models) : IClassFixture<RegistryModels>
{
    [Fact]
    public async Task A_promotion_during_an_outage_waits_for_the_server_and_happens_once()
    {
        RegistryStore.SkipUnlessAvailable("postgres");
        using var store = new RegistryStore("postgres");
        await using var proxy = Proxy();
        var registry = ModelRegistry.Open(Through(proxy, store.Settings, TimeSpan.FromSeconds(60)));
        registry.Register(models.Files[0], VersionRegistration.Trained(OriginDetail.None));
        registry.Register(models.Files[1], VersionRegistration.Trained(OriginDetail.None));
        registry.Promote(models.Ids[0], "first");

        proxy.Cut();
        var promotion = Task.Run(() => registry.Promote(models.Ids[1], "during the outage"), TestContext.Current.CancellationToken);
        await Probe.UntilAsync(() => Task.FromResult(proxy.Refused >= 2), TimeSpan.FromSeconds(30), () => "no connection attempt reached the proxy");
        Assert.False(promotion.IsCompleted);
        proxy.Restore();

        Assert.True(await promotion.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        var direct = ModelRegistry.Open(store.Settings);
        Assert.Equal(models.Ids[1], direct.Champion()!.Id);
        Assert.Single(direct.History(models.Ids[1]), e => e.Event == LifecycleEvent.Promoted);
    }

    [Fact]
    public async Task A_store_still_unreachable_after_give_up_after_is_one_line_naming_the_store_and_the_setting()
    {
        RegistryStore.SkipUnlessAvailable("postgres");
        using var store = new RegistryStore("postgres");
        await using var proxy = Proxy();
        var registry = ModelRegistry.Open(Through(proxy, store.Settings, TimeSpan.FromSeconds(2)));

        proxy.Cut();
        var failure = Assert.Throws<EnvironmentFailureException>(() => registry.List());

        Assert.Equal(FailedResource.Store, failure.Resource);
        Assert.StartsWith($"PostgreSQL store 127.0.0.1:{proxy.Port}/", failure.Message);
        Assert.Contains("model registry: list the versions failed for ", failure.Message);
        Assert.EndsWith("(check streamdetect.store.postgres.connection-string)", failure.Message);
        Assert.DoesNotContain('\n', failure.Message);
    }

    private static TcpOutageProxy Proxy()
    {
        var target = new NpgsqlConnectionStringBuilder(RegistryStore.ConnectionString);
        return new TcpOutageProxy(target.Host!, target.Port);
    }

    private static StoreSettings Through(TcpOutageProxy proxy, StoreSettings store, TimeSpan giveUpAfter)
    {
        var proxied = new NpgsqlConnectionStringBuilder(store.PostgresConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 3 };
        return store with
        {
            PostgresConnectionString = proxied.ConnectionString,
            Retry = new StoreRetrySettings { MinBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromSeconds(1), GiveUpAfter = giveUpAfter },
        };
    }
}
