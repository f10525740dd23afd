namespace StreamDetect.Stages.Generator;

/// <summary>Everything the users of one generator share, built once and never changed.</summary>
internal sealed class GenerationContext
{
    public GenerationContext(GeneratorSettings settings)
    {
        Settings = settings;
        StartMs = new DateTimeOffset(DateTime.SpecifyKind(settings.Start, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        EndMs = StartMs + settings.Days * 86_400_000L;
        Catalog = new ProductCatalog(settings.Items, settings.Categories, settings.ItemZipfExponent, settings.Seed);
        Plan = new ScenarioPlan(settings, StartMs, EndMs);
    }

    public GeneratorSettings Settings { get; }

    /// <summary>First instant of the period (epoch ms, included).</summary>
    public long StartMs { get; }

    /// <summary>End of the period (epoch ms, excluded).</summary>
    public long EndMs { get; }

    public ProductCatalog Catalog { get; }
    public ShopperSessionModel Model => ShopperSessionModel.Default;
    public DiurnalProfile Diurnal => DiurnalProfile.Default;
    public ScenarioPlan Plan { get; }
}
