using StreamDetect.Engine.Cli;
using StreamDetect.Models.Detection;

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
