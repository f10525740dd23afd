namespace StreamDetect.Models.Events;

/// <summary>
/// The e-commerce event types StreamDetect knows by name. Other type strings are accepted everywhere:
/// models learn their vocabulary from data and map unseen types to an unknown token; the feature
/// profile counts them under <see cref="Other"/>.
/// </summary>
public static class EventTypes
{
    public const string View = "view";
    public const string Search = "search";
    public const string Click = "click";
    public const string Cart = "cart";
    public const string RemoveCart = "remove_cart";
    public const string Favorite = "favorite";
    public const string Checkout = "checkout";
    public const string Purchase = "purchase";
    public const string PayFail = "pay_fail";
    public const string Refund = "refund";
    public const string Review = "review";
    public const string Login = "login";
    public const string LoginFail = "login_fail";
    public const string Logout = "logout";
    public const string AddressChange = "address_change";
    public const string Coupon = "coupon";

    /// <summary>
    /// The end of a session (see <see cref="Sessions.SessionRule"/>): not an input type (the parser refuses it), but
    /// a marker the engine and the datasets put into a user's window when a session closes, scored like an event.
    /// </summary>
    public const string SessionEnd = "<end>";

    /// <summary>Feature-profile bucket for every type not listed in <see cref="Known"/>.</summary>
    public const string Other = "other";

    /// <summary>The named types, in the fixed order the feature profile uses.</summary>
    public static IReadOnlyList<string> Known { get; } =
    [
        View, Search, Click, Cart, RemoveCart, Favorite, Checkout, Purchase,
        PayFail, Refund, Review, Login, LoginFail, Logout, AddressChange, Coupon,
    ];

    private static readonly Dictionary<string, int> IndexByName = Known
        .Select((name, index) => (name, index))
        .ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);

    /// <summary>Index of a type in <see cref="Known"/>, or <c>Known.Count</c> (the "other" bucket).</summary>
    public static int ProfileIndex(string type) =>
        IndexByName.TryGetValue(type, out int index) ? index : Known.Count;

    /// <summary>Number of profile buckets: every known type plus "other".</summary>
    public static int ProfileBuckets => Known.Count + 1;

    /// <summary>
    /// Returns the shared instance for a known type name (so millions of events share a handful of
    /// strings), or <paramref name="type"/> itself.
    /// </summary>
    public static string Intern(string type) =>
        IndexByName.TryGetValue(type, out int index) ? Known[index] : type == SessionEnd ? SessionEnd : type;

    /// <summary>Interns a type given as UTF-8 bytes without allocating for known types.</summary>
    public static string Intern(ReadOnlySpan<byte> utf8)
    {
        foreach (string known in Known)
        {
            if (utf8.Length == known.Length && System.Text.Ascii.Equals(utf8, known)) return known;
        }
        return System.Text.Encoding.UTF8.GetString(utf8);
    }
}
