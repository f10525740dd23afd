using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace StreamDetect.Engine.Configuration;

/// <summary>Which keys of a block a configuration sets to something other than the shipped defaults
/// (<see cref="EngineConfig.Reference"/>): what a user changed, for warnings about settings without effect.</summary>
public static class ChangedSettings
{
    /// <summary>The full paths of the leaf keys under <paramref name="block"/> whose value differs from the reference (or
    /// that the reference lacks), in the configuration's order; empty when the block is absent.</summary>
    public static IReadOnlyList<string> Under(Config config, string block, Config? reference = null)
    {
        reference ??= EngineConfig.Reference;
        var changed = new List<string>();
        if (config.HasPath(block)) Collect(config, reference, block, changed);
        return changed;
    }

    private static void Collect(Config config, Config reference, string path, List<string> changed)
    {
        foreach (var (name, value) in config.GetConfig(path).AsEnumerable())
        {
            string key = $"{path}.{name.Trim('"')}";
            if (value.IsObject())
            {
                Collect(config, reference, key, changed);
                continue;
            }
            if (!reference.HasPath(key) || Render(reference.GetValue(key)) != Render(value)) changed.Add(key);
        }
    }

    private static string Render(HoconValue value) =>
        value.IsArray() ? string.Join("\n", value.GetArray().Select(Render)) : value.IsString() ? value.GetString() : value.ToString();
}
