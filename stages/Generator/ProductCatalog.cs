using System.Globalization;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// The simulated shop: items ranked by popularity with Zipf weights, each in a category (category sizes
/// are skewed too), each with a fixed price drawn from its category's log-normal, and a few search queries
/// per category. Items are addressed by popularity rank; every string an event needs is built once here,
/// so generating an event allocates nothing but the event.
/// </summary>
internal sealed class ProductCatalog
{
    private static readonly string[] Nouns =
    [
        "phone case", "earbuds", "sneakers", "backpack", "coffee maker", "desk lamp", "yoga mat", "water bottle",
        "t-shirt", "jeans", "lipstick", "face cream", "dog food", "cat litter", "lego set", "board game",
        "novel", "cookbook", "usb cable", "power bank", "smart watch", "laptop stand", "keyboard", "mouse",
        "monitor", "office chair", "bed sheets", "pillow", "frying pan", "knife set", "vacuum cleaner", "air fryer",
        "baby stroller", "diapers", "vitamins", "protein powder", "tent", "bike helmet", "sunglasses", "perfume",
    ];

    private static readonly string[] Modifiers =
    [
        "cheap", "best", "new", "wireless", "kids", "mens", "womens", "mini", "pro", "sale", "2026", "black",
        "organic", "large", "gift", "waterproof",
    ];

    private const int QueriesPerCategory = 8;

    private readonly double[] _cumulative;         // by rank
    private readonly int[] _categoryOf;            // by rank
    private readonly double[] _price;              // by rank
    private readonly string[] _itemNames;          // by rank
    private readonly string[] _categoryNames;
    private readonly int[][] _categoryItems;       // ranks, ascending
    private readonly double[][] _categoryCumulative;
    private readonly string[][] _queries;          // by category

    public ProductCatalog(int items, int categories, double zipfExponent, int seed)
    {
        var rng = Xoshiro256StarStar.ForStream(seed, StreamIds.Catalog);
        ItemCount = items;
        CategoryCount = categories;

        var medianPrice = new double[categories];
        var priceSigma = new double[categories];
        _categoryNames = new string[categories];
        _queries = new string[categories][];
        for (int c = 0; c < categories; c++)
        {
            _categoryNames[c] = "c-" + c.ToString(CultureInfo.InvariantCulture);
            medianPrice[c] = Math.Exp(rng.Uniform(Math.Log(4.0), Math.Log(400.0)));
            priceSigma[c] = rng.Uniform(0.3, 0.8);
            string noun = Nouns[c % Nouns.Length];
            if (c >= Nouns.Length) noun += " " + (c / Nouns.Length + 1).ToString(CultureInfo.InvariantCulture);
            var queries = new string[QueriesPerCategory];
            queries[0] = noun;
            for (int q = 1; q < queries.Length; q++) queries[q] = Modifiers[rng.NextInt(Modifiers.Length)] + " " + noun;
            _queries[c] = queries;
        }

        _cumulative = new double[items];
        _categoryOf = new int[items];
        _price = new double[items];
        var counts = new int[categories];
        double running = 0;
        for (int r = 0; r < items; r++)
        {
            running += Math.Pow(r + 1, -zipfExponent);
            _cumulative[r] = running;
            // u^2 skews category sizes: low-numbered categories hold more items.
            double u = rng.NextDouble();
            int c = Math.Min(categories - 1, (int)(categories * u * u));
            _categoryOf[r] = c;
            counts[c]++;
            double price = rng.LogNormal(medianPrice[c], priceSigma[c]);
            _price[r] = price >= 10 ? Math.Floor(price) + 0.99 : Math.Max(0.49, Math.Round(price, 2));
        }

        // Item ids are a shuffle of 0..items-1, so an id says nothing about popularity.
        var ids = new int[items];
        for (int i = 0; i < items; i++) ids[i] = i;
        for (int i = items - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (ids[i], ids[j]) = (ids[j], ids[i]);
        }
        _itemNames = new string[items];
        for (int r = 0; r < items; r++) _itemNames[r] = "sku-" + ids[r].ToString(CultureInfo.InvariantCulture);

        _categoryItems = new int[categories][];
        _categoryCumulative = new double[categories][];
        var fill = new int[categories];
        for (int c = 0; c < categories; c++)
        {
            _categoryItems[c] = new int[counts[c]];
            _categoryCumulative[c] = new double[counts[c]];
        }
        for (int r = 0; r < items; r++)
        {
            int c = _categoryOf[r];
            int k = fill[c]++;
            _categoryItems[c][k] = r;
            _categoryCumulative[c][k] = (k == 0 ? 0.0 : _categoryCumulative[c][k - 1]) + Math.Pow(r + 1, -zipfExponent);
        }

        int tail = Math.Max(5, items / 50);
        int[] byPrice = Enumerable.Range(0, items).OrderBy(r => _price[r]).ThenBy(r => r).ToArray();
        CheapItems = byPrice.Take(Math.Min(tail, items)).Order().ToArray();
        ExpensiveItems = byPrice.Skip(Math.Max(0, items - tail)).Order().ToArray();
    }

    public int ItemCount { get; }
    public int CategoryCount { get; }

    /// <summary>The cheapest ~2% of items (at least 5), most popular first.</summary>
    public IReadOnlyList<int> CheapItems { get; }

    /// <summary>The dearest ~2% of items (at least 5), most popular first.</summary>
    public IReadOnlyList<int> ExpensiveItems { get; }

    public string ItemName(int rank) => _itemNames[rank];
    public int CategoryOf(int rank) => _categoryOf[rank];
    public string CategoryName(int category) => _categoryNames[category];
    public double Price(int rank) => _price[rank];

    /// <summary>A popularity-weighted (Zipf) item.</summary>
    public int SampleItem(Xoshiro256StarStar rng) => Search(_cumulative, rng.NextDouble() * _cumulative[^1]);

    /// <summary>A popularity-weighted item of one category (any item if the category is empty).</summary>
    public int SampleItemIn(int category, Xoshiro256StarStar rng)
    {
        double[] cumulative = _categoryCumulative[category];
        if (cumulative.Length == 0) return SampleItem(rng);
        return _categoryItems[category][Search(cumulative, rng.NextDouble() * cumulative[^1])];
    }

    /// <summary>A uniformly chosen item: what a crawler that walks the catalog touches.</summary>
    public int UniformItem(Xoshiro256StarStar rng) => rng.NextInt(ItemCount);

    /// <summary>A category weighted by the popularity of its items (where shoppers search).</summary>
    public int SampleCategory(Xoshiro256StarStar rng) => _categoryOf[SampleItem(rng)];

    /// <summary>A search query for the category; the plain noun and head queries are the most common.</summary>
    public string SampleQuery(int category, Xoshiro256StarStar rng)
    {
        string[] queries = _queries[category];
        int index = Math.Min(rng.NextInt(queries.Length), rng.NextInt(queries.Length));
        return queries[index];
    }

    /// <summary>The plain query of a category (what a crawler enumerates).</summary>
    public string CategoryQuery(int category) => _queries[category][0];

    private static int Search(double[] cumulative, double x)
    {
        int lo = 0, hi = cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] > x) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }
}
