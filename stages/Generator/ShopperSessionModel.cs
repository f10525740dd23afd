using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// The normal shopper: one session is a walk of an absorbing Markov chain over <see cref="ShopperState"/>s,
/// from a start distribution until it reaches "end". The gap before each event is log-normal with a median
/// that depends on the event type (reading a page takes longer than clicking), scaled by a per-user tempo.
/// The expected session length and event-type mix follow from the parameters alone
/// (<see cref="ExpectedSessionLength"/>, <see cref="ExpectedTypeMix"/>), which is how the tests check the
/// generator against its own model.
/// </summary>
public sealed class ShopperSessionModel
{
    /// <summary>Number of states; also the index of "end" in the transition rows.</summary>
    private static readonly int StateCount = Enum.GetValues<ShopperState>().Length;

    private readonly double[] _startCumulative;
    private readonly double[][] _rowCumulative; // per state: cumulative over StateCount states + end
    private readonly double[] _gapMedianMs;
    private readonly double[] _gapSigma;
    private readonly string[] _types;

    /// <summary>The model the generator uses.</summary>
    public static ShopperSessionModel Default { get; } = new(release: false);

    /// <summary>
    /// The normal shopper after the release of the benign-drift scenario (<see cref="DriftSettings"/>): a shopping
    /// assistant that takes over part of search (new type "assistant", also a way into a session), one-click
    /// "express_checkout" from an item page that skips cart and checkout, and review prompts after a purchase.
    /// Everything else is as in <see cref="Default"/>; the pace is set by the caller (<see cref="DriftSettings.Pace"/>).
    /// </summary>
    public static ShopperSessionModel AfterRelease { get; } = new(release: true);

    private ShopperSessionModel(bool release)
    {
        _types = new string[StateCount];
        foreach (ShopperState s in Enum.GetValues<ShopperState>()) _types[(int)s] = TypeOf(s);

        _startCumulative = release
            ? Cumulative(Row(
                (ShopperState.Login, 0.20), (ShopperState.LoginFail, 0.01), (ShopperState.View, 0.30),
                (ShopperState.Search, 0.25), (ShopperState.Assistant, 0.24)))
            : Cumulative(Row(
                (ShopperState.Login, 0.24), (ShopperState.LoginFail, 0.01), (ShopperState.View, 0.35),
                (ShopperState.Search, 0.40)));

        _rowCumulative = new double[StateCount][];
        void Set(ShopperState from, double end, params (ShopperState To, double P)[] to)
        {
            double[] row = Row(to);
            row[StateCount] = end;
            _rowCumulative[(int)from] = Cumulative(row);
        }

        const ShopperState login = ShopperState.Login, loginFail = ShopperState.LoginFail, view = ShopperState.View,
            search = ShopperState.Search, click = ShopperState.Click, favorite = ShopperState.Favorite,
            address = ShopperState.AddressChange, remove = ShopperState.RemoveCart, purchase = ShopperState.Purchase,
            review = ShopperState.Review, refund = ShopperState.Refund, logout = ShopperState.Logout,
            cView = ShopperState.CartView, cSearch = ShopperState.CartSearch, cClick = ShopperState.CartClick,
            cFavorite = ShopperState.CartFavorite, cart = ShopperState.Cart, coupon = ShopperState.Coupon,
            checkout = ShopperState.Checkout, payFail = ShopperState.PayFail,
            cAddress = ShopperState.CheckoutAddressChange, assistant = ShopperState.Assistant,
            express = ShopperState.ExpressCheckout;

        // Rows: the probability of ending the session, then the next states. Each row sums to 1.
        Set(login, 0.03, (view, 0.42), (search, 0.45), (click, 0.08), (address, 0.01), (logout, 0.01));
        Set(loginFail, 0.03, (login, 0.90), (loginFail, 0.07));
        // "Buy now" (view -> checkout) puts the viewed item in the cart.
        Set(view, 0.08, (view, 0.42), (click, 0.20), (search, 0.14), (cart, 0.10), (favorite, 0.04), (checkout, 0.01), (logout, 0.01));
        Set(search, 0.08, (click, 0.57), (view, 0.20), (search, 0.15));
        Set(click, 0.06, (view, 0.72), (click, 0.10), (search, 0.07), (cart, 0.05));
        Set(favorite, 0.15, (view, 0.45), (search, 0.20), (click, 0.15), (cart, 0.05));
        Set(address, 0.30, (view, 0.40), (search, 0.30));
        Set(remove, 0.20, (view, 0.45), (search, 0.25), (click, 0.10));
        Set(purchase, 0.40, (review, 0.10), (refund, 0.02), (view, 0.25), (search, 0.15), (logout, 0.08));
        Set(review, 0.45, (view, 0.30), (search, 0.20), (logout, 0.05));
        Set(refund, 0.50, (view, 0.30), (search, 0.20));
        Set(logout, 1.00);
        Set(cView, 0.06, (cView, 0.35), (cClick, 0.15), (cSearch, 0.10), (cart, 0.15), (checkout, 0.12), (remove, 0.04), (cFavorite, 0.03));
        Set(cSearch, 0.13, (cClick, 0.55), (cView, 0.20), (cSearch, 0.12));
        Set(cClick, 0.10, (cView, 0.70), (cClick, 0.08), (cSearch, 0.06), (cart, 0.06));
        Set(cFavorite, 0.20, (cView, 0.50), (cSearch, 0.20), (checkout, 0.10));
        Set(cart, 0.05, (cView, 0.30), (cSearch, 0.15), (cClick, 0.08), (cart, 0.08), (checkout, 0.25), (remove, 0.06), (coupon, 0.03));
        Set(coupon, 0.10, (checkout, 0.80), (cView, 0.10));
        Set(checkout, 0.04, (purchase, 0.78), (payFail, 0.08), (cAddress, 0.03), (coupon, 0.03), (cView, 0.04));
        Set(payFail, 0.25, (checkout, 0.70), (cView, 0.05));
        Set(cAddress, 0.10, (checkout, 0.90));
        // The release's states (unreachable before it: no row leads to them and no session starts in them).
        // An assistant answer is a list of items, so it is mostly followed by a click; an express checkout buys
        // the viewed item at once (a failed payment falls back to the checkout page).
        Set(assistant, 0.06, (click, 0.60), (view, 0.20), (assistant, 0.14));
        Set(express, 0.04, (purchase, 0.90), (payFail, 0.06));
        if (release)
        {
            // New paths through the funnel: the assistant beside search, express checkout beside the cart, and a
            // review prompt after a purchase.
            Set(login, 0.03, (view, 0.35), (search, 0.30), (assistant, 0.22), (click, 0.08), (address, 0.01), (logout, 0.01));
            Set(view, 0.08, (view, 0.36), (click, 0.20), (search, 0.10), (assistant, 0.04), (cart, 0.08), (favorite, 0.04),
                (checkout, 0.01), (express, 0.08), (logout, 0.01));
            Set(click, 0.06, (view, 0.72), (click, 0.10), (search, 0.04), (assistant, 0.03), (cart, 0.03), (express, 0.02));
            Set(purchase, 0.35, (review, 0.18), (refund, 0.02), (view, 0.22), (search, 0.15), (logout, 0.08));
        }

        // Median seconds before an event of each type, and the log-space spread.
        _gapMedianMs = new double[StateCount];
        _gapSigma = new double[StateCount];
        foreach (ShopperState s in Enum.GetValues<ShopperState>())
        {
            (double seconds, double sigma) = _types[(int)s] switch
            {
                EventTypes.View => (22.0, 0.9),
                EventTypes.Search => (12.0, 0.8),
                EventTypes.Click => (6.0, 0.8),
                EventTypes.Cart => (10.0, 0.7),
                EventTypes.RemoveCart => (15.0, 0.7),
                EventTypes.Favorite => (8.0, 0.7),
                EventTypes.Checkout => (20.0, 0.6),
                EventTypes.Purchase => (35.0, 0.6),
                EventTypes.PayFail => (25.0, 0.6),
                EventTypes.Refund => (60.0, 0.7),
                EventTypes.Review => (90.0, 0.8),
                EventTypes.Login => (10.0, 0.6),
                EventTypes.LoginFail => (8.0, 0.6),
                EventTypes.Logout => (20.0, 0.8),
                EventTypes.AddressChange => (45.0, 0.6),
                EventTypes.Coupon => (15.0, 0.7),
                ReleaseEventTypes.Assistant => (9.0, 0.7),
                ReleaseEventTypes.ExpressCheckout => (12.0, 0.5),
                _ => throw new InvalidOperationException($"no gap for {s}"),
            };
            _gapMedianMs[(int)s] = seconds * 1000.0;
            _gapSigma[(int)s] = sigma;
        }
    }

    /// <summary>The event type a state emits.</summary>
    public string EventType(ShopperState state) => _types[(int)state];

    /// <summary>Probability that a session starts in <paramref name="state"/>.</summary>
    public double StartProbability(ShopperState state) => Probability(_startCumulative, (int)state);

    /// <summary>Probability of moving from <paramref name="from"/> to <paramref name="to"/>; <c>null</c> means the session ends.</summary>
    public double TransitionProbability(ShopperState from, ShopperState? to) =>
        Probability(_rowCumulative[(int)from], to is ShopperState s ? (int)s : StateCount);

    /// <summary>Median gap before an event in <paramref name="state"/>, for a user of tempo 1.</summary>
    public TimeSpan GapMedian(ShopperState state) => TimeSpan.FromMilliseconds(_gapMedianMs[(int)state]);

    /// <summary>Expected number of events in a session (visits before absorption).</summary>
    public double ExpectedSessionLength() => ExpectedVisits().Sum();

    /// <summary>Expected share of each event type among all session events (types the model cannot emit are left out).</summary>
    public IReadOnlyDictionary<string, double> ExpectedTypeMix()
    {
        double[] visits = ExpectedVisits();
        double total = visits.Sum();
        var mix = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < StateCount; i++)
        {
            // States the model never reaches (the release's, in the default model) emit nothing.
            if (visits[i] > 0) mix[_types[i]] = mix.GetValueOrDefault(_types[i]) + visits[i] / total;
        }
        return mix;
    }

    internal ShopperState SampleStart(Xoshiro256StarStar rng) => (ShopperState)rng.Pick(_startCumulative);

    /// <summary>Draws the next state; false when the session ends.</summary>
    internal bool TrySampleNext(ShopperState from, Xoshiro256StarStar rng, out ShopperState next)
    {
        int index = rng.Pick(_rowCumulative[(int)from]);
        next = (ShopperState)Math.Min(index, StateCount - 1);
        return index < StateCount;
    }

    /// <summary>A gap in milliseconds before an event in <paramref name="state"/> (at least 200 ms).</summary>
    internal long SampleGapMs(ShopperState state, double tempo, Xoshiro256StarStar rng)
    {
        double ms = rng.LogNormal(_gapMedianMs[(int)state] * tempo, _gapSigma[(int)state]);
        return Math.Max(200L, (long)ms);
    }

    /// <summary>
    /// Expected visits to each state per session: v = s (I - Q)^-1 for the transient block Q, solved as
    /// (I - Q)^T v = s by Gaussian elimination with partial pivoting.
    /// </summary>
    private double[] ExpectedVisits()
    {
        int n = StateCount;
        var a = new double[n, n + 1];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                // Row i of (I - Q)^T is column i of (I - Q).
                a[i, j] = (i == j ? 1.0 : 0.0) - Probability(_rowCumulative[j], i);
            }
            a[i, n] = Probability(_startCumulative, i);
        }
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            }
            for (int c = 0; c <= n; c++) (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
            for (int r = 0; r < n; r++)
            {
                if (r == col || a[r, col] == 0.0) continue;
                double f = a[r, col] / a[col, col];
                for (int c = col; c <= n; c++) a[r, c] -= f * a[col, c];
            }
        }
        var visits = new double[n];
        for (int i = 0; i < n; i++) visits[i] = a[i, n] / a[i, i];
        return visits;
    }

    private static double[] Row(params (ShopperState To, double P)[] entries)
    {
        var row = new double[StateCount + 1];
        foreach (var (to, p) in entries) row[(int)to] += p;
        return row;
    }

    private static double[] Cumulative(double[] weights)
    {
        double sum = weights.Sum();
        if (Math.Abs(sum - 1.0) > 1e-9) throw new InvalidOperationException($"a session-model row sums to {sum}, not 1");
        var cumulative = new double[weights.Length];
        double running = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            running += weights[i];
            cumulative[i] = running;
        }
        return cumulative;
    }

    private static double Probability(double[] cumulative, int index) =>
        index < cumulative.Length ? cumulative[index] - (index == 0 ? 0.0 : cumulative[index - 1]) : 0.0;

    private static string TypeOf(ShopperState s) => s switch
    {
        ShopperState.Login => EventTypes.Login,
        ShopperState.LoginFail => EventTypes.LoginFail,
        ShopperState.View or ShopperState.CartView => EventTypes.View,
        ShopperState.Search or ShopperState.CartSearch => EventTypes.Search,
        ShopperState.Click or ShopperState.CartClick => EventTypes.Click,
        ShopperState.Favorite or ShopperState.CartFavorite => EventTypes.Favorite,
        ShopperState.AddressChange or ShopperState.CheckoutAddressChange => EventTypes.AddressChange,
        ShopperState.RemoveCart => EventTypes.RemoveCart,
        ShopperState.Purchase => EventTypes.Purchase,
        ShopperState.Review => EventTypes.Review,
        ShopperState.Refund => EventTypes.Refund,
        ShopperState.Logout => EventTypes.Logout,
        ShopperState.Cart => EventTypes.Cart,
        ShopperState.Coupon => EventTypes.Coupon,
        ShopperState.Checkout => EventTypes.Checkout,
        ShopperState.PayFail => EventTypes.PayFail,
        ShopperState.Assistant => ReleaseEventTypes.Assistant,
        ShopperState.ExpressCheckout => ReleaseEventTypes.ExpressCheckout,
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };
}
