using System.Text.RegularExpressions;
using StreamDetect.Engine.Cli;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Telemetry;
using StreamDetect.Models.Detection;
using YamlDotNet.Serialization;

namespace StreamDetect.Engine.Tests.Deployment;

/// <summary>
/// docker/docker-compose.yml, checked with a YAML parser (there is no Docker engine here): every engine has a
/// model source, waits for what it needs with health checks, and its command is one the CLI accepts.
/// </summary>
public sealed class ComposeFileTests
{
    private readonly ComposeFile _compose = ComposeFile.Load();

    [Fact]
    public void The_compose_file_parses_and_runs_three_engine_nodes()
    {
        Assert.Equal(["engine-1", "engine-2", "engine-3"], _compose.EngineServices.Order());
    }

    [Fact]
    public void Every_engine_has_a_model_trained_into_a_volume_it_mounts_by_a_one_shot_it_waits_for()
    {
        Assert.Empty(ModelSourceProblems(_compose));
    }

    [Fact]
    public void The_model_source_check_fails_on_the_compose_file_that_crash_looped()
    {
        // The compose file before this check existed: engines ran without --model (exit 2, restarted forever).
        string yaml = File.ReadAllText(Path.Combine(_compose.RepositoryRoot, "docker", "docker-compose.yml"));
        string withoutModel = yaml.Replace("\"--model\", \"/models/model.sdm\",", "", StringComparison.Ordinal);
        Assert.NotEqual(yaml, withoutModel);
        var problems = ModelSourceProblems(ComposeFile.Parse(withoutModel, _compose.RepositoryRoot));
        Assert.Equal(3, problems.Count);
        Assert.All(problems, problem => Assert.Contains("no --model", problem));

        // A model path on a volume, but the engines do not wait for the trainer to complete.
        string notWaiting = yaml.Replace("    trainer:\n      condition: service_completed_successfully\n", "", StringComparison.Ordinal);
        Assert.NotEqual(yaml, notWaiting);
        Assert.Contains(ModelSourceProblems(ComposeFile.Parse(notWaiting, _compose.RepositoryRoot)),
            problem => problem.Contains("waits for no one-shot service", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_engine_waits_for_healthy_PostgreSQL_and_Kafka()
    {
        foreach (string engine in _compose.EngineServices)
        {
            var dependsOn = _compose.DependsOn(engine);
            Assert.Equal("service_healthy", dependsOn.GetValueOrDefault("postgres"));
            Assert.Equal("service_healthy", dependsOn.GetValueOrDefault("kafka"));
        }
    }

    [Fact]
    public void Every_dependency_has_a_condition_and_every_service_waited_on_for_health_has_a_health_check()
    {
        string[] conditions = ["service_healthy", "service_completed_successfully", "service_started"];
        foreach (string service in _compose.Services.Keys)
        foreach (var (dependency, condition) in _compose.DependsOn(service))
        {
            Assert.True(_compose.Services.ContainsKey(dependency), $"{service} depends on '{dependency}', which is not a service");
            Assert.True(conditions.Contains(condition), $"{service} -> {dependency}: condition '{condition}'");
            if (condition == "service_healthy")
                Assert.True(_compose.HealthCheck(dependency) is { Count: > 0 }, $"{service} waits for {dependency} to be healthy, which has no healthcheck");
            if (condition == "service_completed_successfully")
                Assert.True(_compose.Value(dependency, "restart") is null or "no", $"{dependency} is waited on to complete but restarts");
        }
    }

    [Fact]
    public void Every_engine_has_a_health_check_that_probes_the_process()
    {
        foreach (string engine in _compose.EngineServices)
        {
            var test = _compose.HealthCheck(engine);
            Assert.NotNull(test);
            Assert.Equal("CMD", test[0]);
            // It must ask the engine's readiness endpoint, on the port its command serves it on, for a 200.
            Assert.Contains(test, part => part.Contains("/9464", StringComparison.Ordinal) && part.Contains("GET /health/ready", StringComparison.Ordinal)
                                          && part.Contains(" 200 ", StringComparison.Ordinal));
            var command = _compose.Command(engine).ToList();
            int port = command.IndexOf("--metrics-port");
            Assert.True(port >= 0 && command[port + 1] == "9464", $"{engine} serves no health endpoint on 9464");
        }
    }

    [Fact]
    public void Every_engine_command_is_accepted_by_the_command_line_and_its_overlays_are_shipped()
    {
        foreach (string engine in _compose.EngineServices)
        {
            var command = _compose.Command(engine).ToArray();
            for (int i = 0; i < command.Length - 1; i++)
            {
                if (command[i] != "--config") continue;
                // The image publishes hocon/*.conf to /app/hocon (engine/StreamDetect.Engine.csproj): the
                // same files as the repository's hocon/ (the CLI refuses a --config file that does not exist).
                Assert.StartsWith("/app/hocon/", command[i + 1]);
                command[i + 1] = Path.Combine(_compose.RepositoryRoot, "hocon", command[i + 1]["/app/hocon/".Length..]);
            }
            var parsed = StreamDetectCli.Build().Parse(command);
            Assert.Empty(parsed.Errors.Select(error => $"{engine}: {error.Message}"));
        }
    }

    [Fact]
    public void The_trainer_is_installed_in_the_image_and_its_commands_are_accepted_by_the_command_line()
    {
        var entrypoint = _compose.Entrypoint("trainer");
        Assert.Equal("train-model", entrypoint[0]);
        string dockerfile = File.ReadAllText(Path.Combine(_compose.RepositoryRoot, "docker", "Dockerfile"));
        Assert.Contains("COPY docker/train-model.sh /usr/local/bin/train-model", dockerfile);
        Assert.Contains("/usr/local/bin/train-model", dockerfile[dockerfile.IndexOf("RUN chmod", StringComparison.Ordinal)..]);

        // train-model OUT [gen options...]: the gen options are the CLI's.
        var gen = StreamDetectCli.Build().Parse(["gen", "--out", "traffic.jsonl", .. entrypoint.Skip(2)]);
        Assert.Empty(gen.Errors.Select(error => error.Message));
        string kind = _compose.Environment("trainer", "MODEL_KIND") ?? "ensemble";
        Assert.True(DetectorRegistry.Default.TryGet(kind, out _), $"MODEL_KIND '{kind}'");

        // Each streamdetect call in the script, with its shell variables filled in, parses.
        var calls = File.ReadAllLines(Path.Combine(_compose.RepositoryRoot, "docker", "train-model.sh"))
            .Where(line => line.StartsWith("dotnet /app/streamdetect.dll ", StringComparison.Ordinal))
            .Select(line => line["dotnet /app/streamdetect.dll ".Length..]
                .Replace("\"$@\"", "--users 10", StringComparison.Ordinal)
                .Replace("\"${MODEL_KIND:-ensemble}\"", kind, StringComparison.Ordinal)
                .Replace("\"$work/", "\"/tmp/", StringComparison.Ordinal)
                .Replace("\"", "", StringComparison.Ordinal)
                .Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        Assert.Equal(["gen", "train"], calls.Select(call => call[0]));
        foreach (var call in calls)
            Assert.Empty(StreamDetectCli.Build().Parse(call).Errors.Select(error => $"{string.Join(' ', call)}: {error.Message}"));
        Assert.Contains("--out", calls[1]);
    }

    /// <summary>
    /// Instruments whose Prometheus names depend on their unit and kind (suffixes), with the unit and kind the dashboard's
    /// queries assume; <see cref="Instruments_the_dashboard_reads_are_declared_with_the_unit_and_kind_its_queries_assume"/>
    /// checks the engine declares them so.
    /// </summary>
    private static readonly (string Instrument, string Unit, string Kind)[] DashboardInstruments =
    [
        ("streamdetect.kafka.consumer.lag", "{record}", "ObservableGauge"),
        ("streamdetect.kafka.commit.duration", "s", "Histogram"),
        ("streamdetect.kafka.brokers.reachable", "1", "ObservableGauge"),
        ("streamdetect.partitions.local", "{partition}", "ObservableGauge"),
        ("streamdetect.users.local", "{user}", "ObservableGauge"),
        ("streamdetect.scorer.busy", "1", "ObservableGauge"),
        ("streamdetect.threshold", "1", "ObservableGauge"),
    ];

    private string Docker(string path) => Path.Combine(_compose.RepositoryRoot, "docker", path);

    private static Dictionary<object, object> Yaml(string path) =>
        new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(File.ReadAllText(path))
        ?? throw new InvalidDataException($"{path} is empty");

    /// <summary>The file behind a container path that a service bind-mounts from docker/ (file or directory mounts).</summary>
    private string HostPathOf(string service, string containerPath)
    {
        foreach (var (source, target, _) in _compose.Volumes(service))
        {
            if (!source.StartsWith("./", StringComparison.Ordinal)) continue;
            if (containerPath == target) return Docker(source[2..]);
            if (containerPath.StartsWith(target.TrimEnd('/') + "/", StringComparison.Ordinal))
                return Path.Combine(Docker(source[2..]), containerPath[(target.TrimEnd('/').Length + 1)..]);
        }
        throw new InvalidDataException($"{service} mounts nothing from docker/ at {containerPath}");
    }

    private GrafanaDashboard Dashboard => GrafanaDashboard.Load(HostPathOf("grafana", _compose.Environment("grafana", "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")!));

    [Fact]
    public void Prometheus_and_Grafana_run_pinned_images_publish_their_ports_and_mount_files_that_exist()
    {
        foreach (var (service, port) in new[] { ("prometheus", "9090:9090"), ("grafana", "3000:3000") })
        {
            Assert.True(_compose.Services.ContainsKey(service), $"no service {service}");
            string image = _compose.Value(service, "image") ?? "";
            Assert.Matches(@"^[a-z0-9./-]+:v?\d+\.\d+\.\d+$", image); // pinned by version, never latest
            Assert.Contains(port, _compose.Ports(service));
            foreach (var (source, target, readOnly) in _compose.Volumes(service))
            {
                if (source.StartsWith("./", StringComparison.Ordinal))
                {
                    Assert.True(File.Exists(Docker(source[2..])) || Directory.Exists(Docker(source[2..])), $"{service} mounts docker/{source[2..]}, which does not exist");
                    Assert.True(readOnly, $"{service} mounts {source} writable");
                }
                else
                {
                    Assert.Contains(source, _compose.NamedVolumes);
                }
            }
        }
        Assert.Equal("service_healthy", _compose.DependsOn("grafana").GetValueOrDefault("prometheus"));
    }

    [Fact]
    public void Prometheus_scrapes_every_engine_where_it_serves_metrics()
    {
        var command = _compose.Command("prometheus").ToList();
        string configPath = command.Single(part => part.StartsWith("--config.file=", StringComparison.Ordinal))["--config.file=".Length..];
        var config = Yaml(HostPathOf("prometheus", configPath));
        var jobs = ((List<object>)config["scrape_configs"]).Cast<Dictionary<object, object>>().ToList();
        var job = Assert.Single(jobs);
        var targets = ((List<object>)job["static_configs"]).Cast<Dictionary<object, object>>()
            .SelectMany(c => ((List<object>)c["targets"]).Cast<string>()).Order(StringComparer.Ordinal).ToList();

        // Where each engine serves: its --metrics-port, on the host its STREAMDETECT_HOCON tells the listener to bind, at the configured path.
        var expected = new List<string>();
        foreach (string engine in _compose.EngineServices)
        {
            var engineCommand = _compose.Command(engine).ToList();
            string port = engineCommand[engineCommand.IndexOf("--metrics-port") + 1];
            var settings = MetricsSettings.Create(EngineConfig.Load(null,
                (_compose.Environment(engine, "STREAMDETECT_HOCON") ?? "") + $"\nstreamdetect.metrics.prometheus.port = {port}"));
            Assert.Equal(engine, _compose.Value(engine, "hostname"));
            Assert.Equal(settings.Path, job.TryGetValue("metrics_path", out var path) ? (string)path : "/metrics");
            expected.Add($"{settings.Host}:{settings.Port}");
        }
        Assert.Equal(expected.Order(StringComparer.Ordinal), targets);
    }

    [Fact]
    public void Grafana_provisions_the_Prometheus_datasource_and_the_dashboard_that_queries_it()
    {
        var datasource = Assert.Single(((List<object>)Yaml(HostPathOf("grafana", "/etc/grafana/provisioning/datasources/prometheus.yml"))["datasources"]).Cast<Dictionary<object, object>>());
        Assert.Equal("prometheus", datasource["type"]);
        var url = new Uri((string)datasource["url"]);
        Assert.True(_compose.Services.ContainsKey(url.Host), $"the datasource points at {url.Host}, which is not a service");
        Assert.Contains($"{url.Port}:{url.Port}", _compose.Ports(url.Host));

        var provider = Assert.Single(((List<object>)Yaml(HostPathOf("grafana", "/etc/grafana/provisioning/dashboards/streamdetect.yml"))["providers"]).Cast<Dictionary<object, object>>());
        string dashboards = (string)((Dictionary<object, object>)provider["options"])["path"];
        string home = _compose.Environment("grafana", "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")!;
        Assert.Equal(dashboards, Path.GetDirectoryName(home));
        Assert.True(File.Exists(HostPathOf("grafana", home)));

        var dashboard = Dashboard;
        Assert.NotEmpty(dashboard.Panels);
        foreach (var panel in dashboard.Panels)
        {
            string title = panel.GetProperty("title").GetString()!;
            Assert.Equal(datasource["uid"], panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.True(panel.GetProperty("targets").GetArrayLength() > 0, $"panel '{title}' queries nothing");
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
                Assert.Equal(datasource["uid"], target.GetProperty("datasource").GetProperty("uid").GetString());
        }
        // Panels do not overlap on the 24-column grid.
        var boxes = dashboard.Panels.Select(p => p.GetProperty("gridPos")).Select(g => (X: g.GetProperty("x").GetInt32(), Y: g.GetProperty("y").GetInt32(), W: g.GetProperty("w").GetInt32(), H: g.GetProperty("h").GetInt32())).ToList();
        Assert.All(boxes, b => Assert.True(b.X + b.W <= 24));
        for (int i = 0; i < boxes.Count; i++)
        for (int j = i + 1; j < boxes.Count; j++)
            Assert.False(boxes[i].X < boxes[j].X + boxes[j].W && boxes[j].X < boxes[i].X + boxes[i].W && boxes[i].Y < boxes[j].Y + boxes[j].H && boxes[j].Y < boxes[i].Y + boxes[i].H,
                $"panels {i} and {j} overlap");
    }

    [Fact]
    public void The_dashboard_shows_throughput_latency_lag_alerts_thresholds_model_scorer_and_the_spread_over_nodes()
    {
        // Each thing operators watch: a panel whose title names it, reading the metric that measures it.
        var wanted = new (string Title, string[] Metrics)[]
        {
            ("Throughput", ["streamdetect_events_received_total", "streamdetect_events_valid_total", "streamdetect_events_dead_lettered_total", "streamdetect_events_scored_total"]),
            ("Latency p50 / p99", ["streamdetect_latency_ingest_to_scored_seconds_bucket", "streamdetect_latency_ingest_to_alert_seconds_bucket"]),
            ("Kafka consumer lag per partition", ["streamdetect_kafka_consumer_lag"]),
            ("Kafka offset commit latency", ["streamdetect_kafka_commit_duration_seconds_bucket"]),
            ("Kafka brokers reachable", ["streamdetect_kafka_brokers_reachable"]),
            ("Alerts per minute by model and segment", ["streamdetect_alerts_total"]),
            ("threshold per segment", ["streamdetect_threshold"]),
            ("Model version in use", ["streamdetect_model_in_use"]),
            ("Scorer busy", ["streamdetect_scorer_busy"]),
            ("Partitions per node", ["streamdetect_partitions_local"]),
            ("Users per node", ["streamdetect_users_local"]),
        };
        var queries = Dashboard.Queries;
        foreach (var (title, metrics) in wanted)
        {
            var panel = queries.Where(q => q.Panel.Contains(title, StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.True(panel.Count > 0, $"no panel titled '{title}'");
            foreach (string metric in metrics)
                Assert.Contains(panel, q => GrafanaDashboard.MetricNames(q.Expression).Contains(metric));
        }
        // Latency panels show p50 and p99.
        var latency = queries.Where(q => q.Panel.StartsWith("Latency", StringComparison.Ordinal)).Select(q => q.Expression).ToList();
        Assert.Contains(latency, e => e.StartsWith("histogram_quantile(0.5,", StringComparison.Ordinal));
        Assert.Contains(latency, e => e.StartsWith("histogram_quantile(0.99,", StringComparison.Ordinal));
        // Lag per partition: by topic and partition, the labels the lag gauge carries.
        Assert.Contains(queries, q => q.Expression.Contains("by (topic, partition) (streamdetect_kafka_consumer_lag)", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Expression.Contains("by (model, segment)", StringComparison.Ordinal) && q.Expression.Contains("streamdetect_threshold", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_metric_the_dashboard_queries_is_one_the_engine_exports_and_is_queried_as_its_type_allows()
    {
        var exported = ExportableNames();
        var unknown = new List<string>();
        foreach (var (panel, expression) in Dashboard.Queries)
        {
            Assert.True(Balanced(expression), $"'{panel}': unbalanced brackets in {expression}");
            foreach (string name in GrafanaDashboard.MetricNames(expression))
            {
                if (!exported.Contains(name)) unknown.Add($"'{panel}': {name}");
                // rate() and increase() only over counters (and histogram series); histogram_quantile only over buckets.
                foreach (Match call in Regex.Matches(expression, @"\b(rate|increase)\((?<metric>[a-z_0-9]+)"))
                    Assert.Matches("_(total|bucket|count|sum)$", call.Groups["metric"].Value);
            }
            if (expression.StartsWith("histogram_quantile(", StringComparison.Ordinal))
                Assert.All(GrafanaDashboard.MetricNames(expression), name => Assert.EndsWith("_bucket", name));
        }
        Assert.Empty(unknown);

        // The check can fail: a misspelt name, or a counter queried without its _total, is not exported.
        Assert.DoesNotContain("streamdetect_events_recieved_total", exported);
        Assert.DoesNotContain("streamdetect_events_received", exported);
        Assert.Contains("streamdetect_events_received_total", exported);
    }

    [Fact]
    public void Instruments_the_dashboard_reads_are_declared_with_the_unit_and_kind_its_queries_assume()
    {
        var declared = EngineInstruments.Declared(_compose.RepositoryRoot);
        Assert.Contains(declared, i => i.Instrument == "streamdetect.events.received"); // the scan finds the engine's instruments
        foreach (var awaited in DashboardInstruments)
        {
            var match = declared.Where(i => i.Instrument == awaited.Instrument).ToList();
            Assert.True(match.Count > 0, $"the dashboard reads {awaited.Instrument}, which nothing in engine/ or stages/ declares");
            var expectedNames = EngineInstruments.SampleNames(awaited.Instrument, awaited.Unit, awaited.Kind).ToHashSet();
            Assert.True(match.Any(i => EngineInstruments.SampleNames(i.Instrument, i.Unit, i.Kind).ToHashSet().SetEquals(expectedNames)),
                $"{awaited.Instrument} is declared as {string.Join(", ", match.Select(i => $"{i.Kind} '{i.Unit}'"))}: the dashboard expects {awaited.Kind} '{awaited.Unit}' ({string.Join(", ", expectedNames)})");
        }
    }

    /// <summary>The sample names the engine's declared instruments are exported as.</summary>
    private HashSet<string> ExportableNames() =>
        EngineInstruments.SampleNames(_compose.RepositoryRoot).ToHashSet(StringComparer.Ordinal);

    private static bool Balanced(string expression)
    {
        var open = new Stack<char>();
        foreach (char c in expression)
        {
            if (c is '(' or '[' or '{') open.Push(c);
            else if (c is ')' or ']' or '}')
            {
                if (open.Count == 0) return false;
                char o = open.Pop();
                if ((o, c) is not (('(', ')') or ('[', ']') or ('{', '}'))) return false;
            }
        }
        return open.Count == 0;
    }

    /// <summary>
    /// What each engine needs to start: a <c>--model</c> whose path lies on a named volume it mounts, filled
    /// by a one-shot service that mounts the same volume writable, names that path, and that the engine waits
    /// for with <c>service_completed_successfully</c>. One line per problem.
    /// </summary>
    private static List<string> ModelSourceProblems(ComposeFile compose)
    {
        var problems = new List<string>();
        foreach (string engine in compose.EngineServices)
        {
            var command = compose.Command(engine);
            int at = command.ToList().IndexOf("--model");
            if (at < 0 || at + 1 >= command.Count)
            {
                problems.Add($"{engine}: no --model in its command");
                continue;
            }
            string modelPath = command[at + 1];
            var mount = compose.Volumes(engine).FirstOrDefault(m => modelPath.StartsWith(m.Target.TrimEnd('/') + "/", StringComparison.Ordinal));
            if (mount.Source is null)
            {
                problems.Add($"{engine}: --model {modelPath} is on no volume it mounts");
                continue;
            }
            if (!compose.NamedVolumes.Contains(mount.Source))
                problems.Add($"{engine}: volume '{mount.Source}' is not a named volume of the file");

            var trainers = compose.DependsOn(engine)
                .Where(dependency => dependency.Value == "service_completed_successfully")
                .Select(dependency => dependency.Key)
                .Where(service => compose.Volumes(service).Any(m => m.Source == mount.Source && !m.ReadOnly))
                .ToList();
            if (trainers.Count == 0)
            {
                problems.Add($"{engine}: waits for no one-shot service (service_completed_successfully) that writes volume '{mount.Source}'");
                continue;
            }
            foreach (string trainer in trainers)
            {
                var target = compose.Volumes(trainer).First(m => m.Source == mount.Source).Target.TrimEnd('/');
                string pathInTrainer = target + "/" + modelPath[(mount.Target.TrimEnd('/').Length + 1)..];
                if (!compose.Entrypoint(trainer).Concat(compose.Command(trainer)).Contains(pathInTrainer))
                    problems.Add($"{engine}: trainer '{trainer}' does not write {pathInTrainer}");
            }
        }
        return problems;
    }
}
