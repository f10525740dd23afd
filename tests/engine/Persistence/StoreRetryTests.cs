using Akka.Configuration;
using Akka.Event;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Persistence;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Tests.Persistence;

/// <summary>
/// The pieces of surviving a store outage that need no store: the retry settings and their checks against
/// the circuit breaker and the routing ask, how a store is named in the error line (never a password), the
/// plugin configuration the engine starts with, and the retry loop of idempotent store calls.
/// (Outages of real stores: tests/integration/Persistence/StoreOutageTests.)
/// </summary>
public sealed class StoreRetryTests
{
    private static Config Load(string overrides) => EngineConfig.Load(null, overrides);

    [Fact]
    public void Backoff_starts_at_min_backoff_and_doubles_up_to_max_backoff()
    {
        var retry = StoreRetrySettings.Create(Load("streamdetect.store.retry { min-backoff = 100ms, max-backoff = 1s }"));
        Assert.Equal([100, 200, 400, 800, 1000, 1000], Enumerable.Range(1, 6).Select(i => retry.Backoff(i).TotalMilliseconds));
    }

    [Fact]
    public void The_defaults_ride_out_a_restart_of_the_database()
    {
        var retry = StoreSettings.Create(Load("")).Retry;
        Assert.Equal(TimeSpan.FromSeconds(60), retry.GiveUpAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(200), retry.MinBackoff);
        Assert.Equal(TimeSpan.FromSeconds(5), retry.MaxBackoff);
    }

    [Fact]
    public void A_max_backoff_below_min_backoff_is_refused_naming_the_key()
    {
        var e = Assert.Throws<SettingsException>(() => StoreRetrySettings.Create(Load("streamdetect.store.retry { min-backoff = 2s, max-backoff = 1s }")));
        Assert.Contains("streamdetect.store.retry.max-backoff", e.Message);
    }

    [Theory]
    [InlineData("sqlite", "journal")]
    [InlineData("sqlite", "snapshot-store")]
    [InlineData("postgres", "journal")]
    public void A_circuit_breaker_call_timeout_within_give_up_after_is_refused_naming_the_key(string kind, string plugin) =>
        AssertBoundRefused(kind, plugin, "circuit-breaker.call-timeout");

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void A_recovery_event_timeout_within_give_up_after_is_refused_naming_the_key(string kind) =>
        AssertBoundRefused(kind, "journal", "recovery-event-timeout");

    private static void AssertBoundRefused(string kind, string plugin, string key)
    {
        var e = Assert.Throws<SettingsException>(() => StoreSettings.Create(Load($"""
            streamdetect.store.kind = {kind}
            streamdetect.store.postgres.connection-string = "Host=db;Database=x"
            streamdetect.store.{kind}.{plugin}.{key} = 30s
            """)));
        Assert.Contains($"streamdetect.store.{kind}.{plugin}.{key}", e.Message);
        Assert.Contains("give-up-after", e.Message);
    }

    [Fact]
    public void An_ask_timeout_within_the_journal_call_timeout_is_refused_naming_both_keys()
    {
        var e = Assert.Throws<SettingsException>(() => EngineSettings.Create(Load("streamdetect.routing.ask-timeout = 60s")));
        Assert.Contains("streamdetect.routing.ask-timeout", e.Message);
        Assert.Contains("streamdetect.store.sqlite.journal.circuit-breaker.call-timeout", e.Message);
    }

    [Fact]
    public void The_plugins_get_the_retry_settings_and_breakers_that_outlast_them()
    {
        var config = Load("""
            streamdetect.store.data-dir = "/tmp/sd-retry-config"
            streamdetect.store.retry { min-backoff = 50ms, max-backoff = 2s, give-up-after = 20s }
            """);
        var store = StoreSettings.Create(config);
        var effective = PersistenceConfig.Effective(store, config);
        foreach (string plugin in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql" })
        {
            var block = effective.GetConfig(plugin);
            Assert.Equal(store.Retry, StoreRetrySettings.FromPlugin(block));
            Assert.True(block.GetTimeSpan("circuit-breaker.call-timeout") > store.Retry.GiveUpAfter);
        }
    }

    [Fact]
    public void A_PostgreSQL_store_is_named_by_host_port_and_database_never_by_user_or_password()
    {
        string name = StoreDescription.Of("PostgreSQL.15", "Host=db.internal;Port=6543;Database=events;Username=sd;Password=s3cret-pw");
        Assert.Equal("PostgreSQL store db.internal:6543/events", name);
        Assert.DoesNotContain("s3cret", name);
        Assert.DoesNotContain("sd;", name);
    }

    [Fact]
    public void A_SQLite_store_is_named_by_the_full_path_of_its_file()
    {
        var store = StoreSettings.Create(Load("streamdetect.store.data-dir = \"rel/dir\""));
        Assert.Equal($"SQLite store {Path.GetFullPath("rel/dir/streamdetect.db")}", StoreDescription.Of(store));
        Assert.Equal(StoreDescription.Of(store), StoreDescription.Of("SQLite.MS", SqliteStore.ConnectionString(store.SqlitePath)));
    }

    [Fact]
    public async Task An_idempotent_call_is_retried_until_it_succeeds()
    {
        int calls = 0;
        var retry = new StoreRetrySettings { MinBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5), GiveUpAfter = TimeSpan.FromSeconds(30) };
        await StoreRetry.RunAsync(retry, "SQLite store /x.db", "snapshot save", NoLogger.Instance, () =>
            ++calls < 4 ? Task.FromException(new IOException("disk full")) : Task.CompletedTask, TestContext.Current.CancellationToken);
        Assert.Equal(4, calls);
    }

    [Fact]
    public async Task A_call_failing_past_give_up_after_ends_in_one_line_naming_the_store_and_the_cause()
    {
        int calls = 0;
        var retry = new StoreRetrySettings { MinBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(20), GiveUpAfter = TimeSpan.FromMilliseconds(200) };
        var e = await Assert.ThrowsAsync<EnvironmentFailureException>(() => StoreRetry.RunAsync(retry, "PostgreSQL store db:5432/events", "snapshot save", NoLogger.Instance, () =>
        {
            calls++;
            return Task.FromException(new InvalidOperationException("connection refused\nsecond line"));
        }, TestContext.Current.CancellationToken));
        Assert.Equal(FailedResource.Store, e.Resource);
        Assert.StartsWith("PostgreSQL store db:5432/events: snapshot save failed", e.Message);
        Assert.Contains("connection refused second line", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(calls > 2, $"{calls} calls");
    }

    [Fact]
    public void A_PostgreSQL_server_that_cannot_be_reached_at_start_is_tried_until_give_up_after_then_named_in_one_line()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        int port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now: connection refused
        var retry = new StoreRetrySettings { MinBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(100), GiveUpAfter = TimeSpan.FromMilliseconds(600) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<EnvironmentFailureException>(() =>
            PostgresStore.EnsureSchema($"Host=127.0.0.1;Port={port};Database=events;Username=sd;Password=s3cret-pw;Timeout=2", "public", retry));
        Assert.True(clock.Elapsed >= retry.GiveUpAfter, $"gave up after {clock.Elapsed}");
        Assert.Equal(FailedResource.Store, e.Resource);
        Assert.StartsWith($"PostgreSQL store 127.0.0.1:{port}/events: cannot prepare schema 'public'", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
