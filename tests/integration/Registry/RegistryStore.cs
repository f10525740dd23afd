using Npgsql;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Registry;

/// <summary>
/// A store of its own for one registry test: a SQLite data directory, or (kind postgres) a fresh schema in the
/// PostgreSQL server of STREAMDETECT_PG, dropped at the end. <see cref="Overlay"/> is the same store as a
/// --config file for the CLI.
/// </summary>
internal sealed class RegistryStore : IDisposable
{
    private readonly TempDirectory _directory = new("sd-registry-");
    private readonly string? _schema;

    public RegistryStore(string kind)
    {
        DataDirectory = _directory.File("data");
        string hocon = $"streamdetect.store.data-dir = \"{DataDirectory}\"\n";
        if (kind == "postgres")
        {
            _schema = $"sd_reg_{Guid.NewGuid():N}"[..20];
            hocon += $"streamdetect.store {{ kind = postgres, postgres {{ connection-string = \"{ConnectionString}\", schema = \"{_schema}\" }} }}\n";
        }
        Overlay = _directory.File("store.conf");
        System.IO.File.WriteAllText(Overlay, hocon);
        Settings = StoreSettings.Create(EngineConfig.Load([Overlay]));
    }

    /// <summary>STREAMDETECT_PG, or null when the PostgreSQL tests are skipped.</summary>
    public static string? ConnectionString => Environment.GetEnvironmentVariable("STREAMDETECT_PG") is { Length: > 0 } cs ? cs : null;

    /// <summary>Skips a postgres case when STREAMDETECT_PG is not set, the way the other PostgreSQL tests do.</summary>
    public static void SkipUnlessAvailable(string kind) =>
        Assert.SkipWhen(kind == "postgres" && ConnectionString is null, "STREAMDETECT_PG is not set (.ci/run starts PostgreSQL and sets it)");

    public StoreSettings Settings { get; }

    public string DataDirectory { get; }

    /// <summary>A --config file naming this store.</summary>
    public string Overlay { get; }

    public string File(string name) => _directory.File(name);

    public void Dispose()
    {
        if (_schema is not null)
        {
            using var connection = new NpgsqlConnection(ConnectionString);
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = $"DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE";
            drop.ExecuteNonQuery();
        }
        _directory.Dispose();
    }
}
