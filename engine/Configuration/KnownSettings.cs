using Akka.Configuration;
using Akka.Configuration.Hocon;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Configuration;

/// <summary>
/// The keys an overlay may set under <c>streamdetect</c>: those of the shipped defaults
/// (hocon/streamdetect.conf), plus the hyper-parameters of every registered detector kind under
/// <c>streamdetect.models.KIND</c> and every Akka.Persistence.Sql plugin key under
/// <c>streamdetect.store.KIND.journal</c> and <c>.snapshot-store</c>. The raw librdkafka
/// <c>properties</c> blocks under <c>streamdetect.kafka</c> are free-form. A key outside this tree is a
/// typo (an overlay would otherwise set nothing, silently): <see cref="Check"/> refuses it, naming the
/// nearest known sibling. Keys outside <c>streamdetect</c> (akka.*) are not checked.
/// </summary>
public sealed class KnownSettings
{
    private const string Root = "streamdetect";

    private static readonly Lazy<KnownSettings> DefaultTree = new(() => Create(EngineConfig.Reference, DetectorRegistry.Default));

    private readonly Node _root;

    private KnownSettings(Node root) => _root = root;

    /// <summary>The tree of the embedded defaults and the default detector registry.</summary>
    public static KnownSettings Default => DefaultTree.Value;

    /// <summary>Builds the tree from <paramref name="defaults"/> (the embedded defaults) and the kinds of <paramref name="registry"/>.</summary>
    public static KnownSettings Create(Config defaults, DetectorRegistry registry)
    {
        var root = Node.From(defaults.GetValue(Root));
        var models = root.Child("models");
        foreach (var kind in registry.Kinds)
        {
            var block = models.Child(kind.Name);
            foreach (string key in TrainingOptionsReader.HyperParameterKeys(kind)) block.Children.TryAdd(key, Node.Leaf());
        }
        var kafka = root.Child("kafka");
        kafka.Child("properties").FreeForm = true;
        foreach (var client in kafka.Children.Values.Where(c => c.Children.ContainsKey("properties")))
            client.Child("properties").FreeForm = true;

        // The plugin blocks take any key of Akka.Persistence.Sql's journal / snapshot store (and of the
        // plugin fallbacks every Akka.Persistence plugin reads), not only the ones the defaults tune.
        var plugins = Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration.WithFallback(Akka.Persistence.Persistence.DefaultConfig());
        var store = root.Child("store");
        foreach (string kind in new[] { "sqlite", "postgres" })
        {
            var storeKind = store.Child(kind);
            storeKind.Child("journal").MergeFrom(Node.From(plugins.GetValue("akka.persistence.journal.sql")), pluginBlock: true);
            storeKind.Child("journal").MergeFrom(Node.From(plugins.GetValue("akka.persistence.journal-plugin-fallback")), pluginBlock: true);
            storeKind.Child("snapshot-store").MergeFrom(Node.From(plugins.GetValue("akka.persistence.snapshot-store.sql")), pluginBlock: true);
            storeKind.Child("snapshot-store").MergeFrom(Node.From(plugins.GetValue("akka.persistence.snapshot-store-plugin-fallback")), pluginBlock: true);
            // Maps of names Akka.Persistence reads from any journal block, with no entry in its defaults.
            storeKind.Child("journal").Child("event-adapters").FreeForm = true;
            storeKind.Child("journal").Child("event-adapter-bindings").FreeForm = true;
        }
        return new KnownSettings(root);
    }

    /// <summary>
    /// Throws <see cref="SettingsException"/> for the first key under <c>streamdetect</c> in
    /// <paramref name="overlay"/> that is not a known setting, naming <paramref name="source"/> (the overlay
    /// file, or $STREAMDETECT_HOCON) and the nearest known key of the same block.
    /// </summary>
    public void Check(Config overlay, string source)
    {
        if (overlay.IsEmpty || !overlay.Root.IsObject()) return;
        if (!overlay.Root.GetObject().Items.TryGetValue(Root, out var block) || !block.IsObject()) return;
        Check(block.GetObject(), _root, Root, source);
    }

    /// <summary>Whether <paramref name="path"/> (e.g. "streamdetect.scoring.batcher.max-batch") is a known setting or block.</summary>
    public bool IsKnown(string path)
    {
        var parts = path.Split('.');
        if (parts[0] != Root) return false;
        var node = _root;
        foreach (string part in parts.Skip(1))
        {
            if (node.FreeForm) return true;
            if (!node.Children.TryGetValue(part, out var next)) return false;
            node = next;
        }
        return true;
    }

    private static void Check(HoconObject overlay, Node known, string path, string source)
    {
        foreach (var (key, value) in overlay.Items)
        {
            string keyPath = $"{path}.{QuoteIfDotted(key)}";
            if (!known.Children.TryGetValue(key, out var child))
            {
                string? nearest = KeySuggestion.Nearest(key, known.Children.Keys);
                string hint = nearest is not null
                    ? $"did you mean '{nearest}'?"
                    : $"the keys of {path} are: {string.Join(", ", known.Children.Keys.Take(20))}{(known.Children.Count > 20 ? ", ..." : "")}";
                throw new SettingsException(keyPath, source, $"unknown key ({hint})");
            }
            if (child.FreeForm || !value.IsObject()) continue;
            if (!child.IsBlock)
                throw new SettingsException(keyPath, source, "is a single value in the defaults, not a block");
            Check(value.GetObject(), child, keyPath, source);
        }
    }

    private static string QuoteIfDotted(string key) => key.Contains('.') ? $"\"{key}\"" : key;

    /// <summary>A key of the tree: a block with children, a single value (leaf), or a free-form map.</summary>
    private sealed class Node
    {
        public Dictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);

        public bool IsBlock { get; private set; }

        /// <summary>Any key below is accepted (raw client properties, event-adapter maps).</summary>
        public bool FreeForm { get; set; }

        public static Node Leaf() => new();

        public static Node From(HoconValue? value)
        {
            var node = new Node();
            if (value is null || !value.IsObject()) return node;
            node.IsBlock = true;
            foreach (var (key, child) in value.GetObject().Items) node.Children[key] = From(child);
            return node;
        }

        /// <summary>The child block named <paramref name="key"/>, created when missing.</summary>
        public Node Child(string key)
        {
            IsBlock = true;
            if (!Children.TryGetValue(key, out var child)) Children[key] = child = new Node { IsBlock = true };
            child.IsBlock = true;
            return child;
        }

        /// <summary>Adds <paramref name="other"/>'s keys; in a plugin's defaults an empty block is a map of any keys (event-adapters).</summary>
        public void MergeFrom(Node other, bool pluginBlock)
        {
            foreach (var (key, child) in other.Children)
            {
                if (pluginBlock && child.IsBlock && child.Children.Count == 0) child.FreeForm = true;
                if (Children.TryGetValue(key, out var existing))
                {
                    if (child.FreeForm) existing.FreeForm = true;
                    if (child.IsBlock) existing.IsBlock = true;
                    existing.MergeFrom(child, pluginBlock);
                }
                else
                {
                    if (pluginBlock) child.MarkEmptyBlocksFreeForm();
                    Children[key] = child;
                }
            }
        }

        private void MarkEmptyBlocksFreeForm()
        {
            if (IsBlock && Children.Count == 0) FreeForm = true;
            foreach (var child in Children.Values) child.MarkEmptyBlocksFreeForm();
        }
    }
}
