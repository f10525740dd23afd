namespace StreamDetect.Stages.Generator;

/// <summary>
/// States of the normal shopper's session chain (<see cref="ShopperSessionModel"/>). Each state emits one
/// event type; the browsing states exist twice, with an empty cart and with a non-empty one, so the chain
/// itself guarantees a plausible order (no checkout without a cart or a "buy now", no remove_cart on an
/// empty cart, purchase only right after checkout or express checkout, review and refund only after a purchase).
/// </summary>
public enum ShopperState
{
    // Cart empty.
    Login,
    LoginFail,
    View,
    Search,
    Click,
    Favorite,
    AddressChange,
    RemoveCart,
    Purchase,
    Review,
    Refund,
    Logout,

    // Cart not empty.
    CartView,
    CartSearch,
    CartClick,
    CartFavorite,
    Cart,
    Coupon,
    Checkout,
    PayFail,
    CheckoutAddressChange,

    // Only after the release of the benign-drift scenario (ShopperSessionModel.AfterRelease); the default model
    // never reaches them. Appended so that the states above keep their numbers and the default traffic its bytes.
    /// <summary>A question to the shopping assistant (cart empty): a new way to find items, emits "assistant".</summary>
    Assistant,

    /// <summary>One-click purchase of the viewed item, skipping cart and checkout: emits "express_checkout".</summary>
    ExpressCheckout,
}
