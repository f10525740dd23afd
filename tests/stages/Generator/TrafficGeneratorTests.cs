using System.Text.Json;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Stages.Tests.Generator;

public sealed class TrafficGeneratorTests
{
    private static readonly GeneratorSettings Small = new() { Users = 300, Days = 2, AnomalyRate = 0.1, Seed = 3 };

    [Fact]
    public void Same_seed_gives_a_byte_identical_file_and_truth()
    {
        (byte[] events1, byte[] truth1) = Write(Small);
        (byte[] events2, byte[] truth2) = Write(Small);

        Assert.True(events1.Length > 100_000, $"only {events1.Length} bytes generated");
        Assert.Equal(events1, events2);
        Assert.Equal(truth1, truth2);
    }

    [Fact]
    public void Different_seed_gives_a_different_file()
    {
        (byte[] events1, byte[] truth1) = Write(Small);
        (byte[] events2, byte[] truth2) = Write(Small with { Seed = 4 });

        Assert.NotEqual(events1, events2);
        Assert.NotEqual(truth1, truth2);
    }

    [Fact]
    public void Events_are_in_non_decreasing_time_order_inside_the_period()
    {
        var settings = GeneratedSample.Settings;
        long start = new DateTimeOffset(settings.Start).ToUnixTimeMilliseconds();
        long end = start + settings.Days * 86_400_000L;
        long previous = long.MinValue;
        foreach (UserEvent e in GeneratedSample.Events)
        {
            Assert.True(e.TimestampMs >= previous, $"{e} goes back in time");
            Assert.InRange(e.TimestampMs, start, end - 1);
            previous = e.TimestampMs;
        }
    }

    [Fact]
    public void Every_event_has_a_label_and_the_required_fields()
    {
        foreach (UserEvent e in GeneratedSample.Events)
        {
            Assert.True(e.Label is 0 or 1, $"{e} has label {e.Label}");
            Assert.Contains(e.Type, EventTypes.Known);
            Assert.NotNull(e.Session);
            Assert.NotNull(e.Device);
            Assert.NotNull(e.Ip);
        }
    }

    [Fact]
    public void Truth_lists_every_user_and_splits_anomalous_users_evenly_over_the_scenarios()
    {
        var truth = GeneratedSample.Generator.Truth;
        Assert.Equal(GeneratedSample.Settings.Users, truth.Count);
        Assert.All(truth.Values, scenario => Assert.Contains(scenario, Scenarios.All));
        foreach (string scenario in Scenarios.Anomalous)
        {
            Assert.Equal(20, truth.Values.Count(v => v == scenario)); // 2000 x 10% / 10
        }
        Assert.Equal(1800, truth.Values.Count(v => v == Scenarios.Normal));
    }

    [Fact]
    public void Label_1_appears_exactly_in_one_contiguous_episode_of_each_anomalous_user_after_normal_history()
    {
        foreach (var (user, scenario) in GeneratedSample.Generator.Truth)
        {
            List<UserEvent> events = GeneratedSample.ByUser.GetValueOrDefault(user) ?? [];
            int first = events.FindIndex(e => e.Label == 1);
            if (scenario == Scenarios.Normal)
            {
                Assert.True(first < 0, $"normal user {user} has a label-1 event");
                continue;
            }
            Assert.True(first > 0, $"{scenario} user {user}: {(first < 0 ? "no episode" : "no normal history before the episode")}");
            int last = events.FindLastIndex(e => e.Label == 1);
            Assert.True(events.Skip(first).Take(last - first + 1).All(e => e.Label == 1),
                $"{scenario} user {user}: label-0 events inside the episode");
            Assert.True(events[first].TimestampMs > events[first - 1].TimestampMs);
        }
    }

    [Fact]
    public void Truth_file_is_one_object_with_sorted_keys_matching_the_truth()
    {
        var generator = new TrafficGenerator(Small);
        using var stream = new MemoryStream();
        GeneratedTrafficWriter.WriteTruth(generator.Truth, stream);

        using var document = JsonDocument.Parse(stream.ToArray());
        var keys = document.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.Equal(generator.Truth.Count, keys.Count);
        foreach (JsonProperty p in document.RootElement.EnumerateObject())
        {
            Assert.Equal(generator.Truth[p.Name], p.Value.GetString());
        }
    }

    [Fact]
    public void Written_file_round_trips_through_the_event_parser()
    {
        var generator = new TrafficGenerator(Small);
        using var stream = new MemoryStream();
        GenerationSummary summary = GeneratedTrafficWriter.WriteEvents(generator, stream, cancellation: TestContext.Current.CancellationToken);
        var parser = new StreamDetect.Stages.Parsing.EventParser(StreamDetect.Stages.Validation.ValidationSettings.Default);
        byte[] bytes = stream.ToArray();

        var expected = generator.Events().GetEnumerator();
        long lines = 0;
        foreach (ReadOnlyMemory<byte> line in Lines(bytes))
        {
            var result = parser.ParseJson(line.Span);
            Assert.True(result.Event is not null, $"line {lines + 1} rejected: {result.Rejection}");
            Assert.True(expected.MoveNext());
            UserEvent e = expected.Current, parsed = result.Event!;
            Assert.Equal((e.UserId, e.TimestampMs, e.Type, e.Item, e.Category, e.Query, e.Ip, e.Device, e.Session, e.Label),
                (parsed.UserId, parsed.TimestampMs, parsed.Type, parsed.Item, parsed.Category, parsed.Query, parsed.Ip, parsed.Device, parsed.Session, parsed.Label));
            Assert.Equal(e.Amount, parsed.Amount);
            lines++;
        }
        Assert.False(expected.MoveNext());
        Assert.Equal(summary.Events, lines);
        Assert.Equal(bytes.Length, summary.Bytes);
        Assert.Equal(generator.Events().LongCount(e => e.Label == 1), summary.AnomalousEvents);
    }

    [Fact]
    public void Invalid_settings_are_rejected_naming_the_setting()
    {
        Assert.Equal("Users", Assert.Throws<ArgumentException>(() => new TrafficGenerator(Small with { Users = 0 })).ParamName);
        Assert.Equal("Days", Assert.Throws<ArgumentException>(() => new TrafficGenerator(Small with { Days = 0 })).ParamName);
        Assert.Equal("AnomalyRate", Assert.Throws<ArgumentException>(() => new TrafficGenerator(Small with { AnomalyRate = 1.5 })).ParamName);
        Assert.Equal("Start", Assert.Throws<ArgumentException>(() => new TrafficGenerator(Small with { Start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Local) })).ParamName);
    }

    [Fact]
    public void The_scenario_list_switches_scenarios_and_shares_the_anomalous_users_over_them_in_its_order()
    {
        var two = new TrafficGenerator(Small with { AnomalyRate = 1, Users = 41, AnomalyScenarios = [Scenarios.EventBurst, Scenarios.CheckoutLoop] });
        Assert.Equal(21, two.AnomalousUsersByScenario[Scenarios.EventBurst]);
        Assert.Equal(20, two.AnomalousUsersByScenario[Scenarios.CheckoutLoop]);
        Assert.Equal([Scenarios.CheckoutLoop, Scenarios.EventBurst], two.Truth.Values.Distinct().Order(StringComparer.Ordinal));
        Assert.Equal("AnomalyScenarios", Assert.Throws<ArgumentException>(() => new TrafficGenerator(Small with { AnomalyScenarios = ["nope"] })).ParamName);
        Assert.Equal("AnomalyScenarios", Assert.Throws<ArgumentException>(() => new TrafficGenerator(Small with { AnomalyScenarios = [] })).ParamName);
    }

    [Fact]
    public void Same_seed_gives_the_same_file_with_only_the_new_session_end_and_count_scenarios()
    {
        var settings = Small with { AnomalyRate = 0.2, AnomalyScenarios = [Scenarios.AbandonedTakeover, Scenarios.CheckoutLoop, Scenarios.EventBurst] };
        (byte[] events1, byte[] truth1) = Write(settings);
        (byte[] events2, byte[] truth2) = Write(settings);
        Assert.Equal(events1, events2);
        Assert.Equal(truth1, truth2);
        var (events3, _) = Write(settings with { Seed = settings.Seed + 1 });
        Assert.NotEqual(events1, events3);
    }

    [Fact]
    public void Anomaly_rate_zero_gives_only_normal_users_and_rate_one_only_anomalous_ones()
    {
        var none = new TrafficGenerator(Small with { AnomalyRate = 0, Users = 50 });
        Assert.All(none.Truth.Values, v => Assert.Equal(Scenarios.Normal, v));
        Assert.All(none.Events(), e => Assert.Equal(0, e.Label));

        var all = new TrafficGenerator(Small with { AnomalyRate = 1, Users = 100 });
        Assert.DoesNotContain(Scenarios.Normal, all.Truth.Values);
        Assert.All(Scenarios.Anomalous, s => Assert.Equal(10, all.AnomalousUsersByScenario[s]));
    }

    private static (byte[] Events, byte[] Truth) Write(GeneratorSettings settings)
    {
        var generator = new TrafficGenerator(settings);
        using var events = new MemoryStream();
        using var truth = new MemoryStream();
        GeneratedTrafficWriter.WriteTruth(generator.Truth, truth);
        GeneratedTrafficWriter.WriteEvents(generator, events, cancellation: TestContext.Current.CancellationToken);
        return (events.ToArray(), truth.ToArray());
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Lines(byte[] bytes)
    {
        int start = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != (byte)'\n') continue;
            yield return bytes.AsMemory(start, i - start);
            start = i + 1;
        }
        Assert.Equal(bytes.Length, start); // every line ends with a newline
    }
}
