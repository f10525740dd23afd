using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Walks one session of <see cref="ShopperSessionModel"/> and fills in what the chain leaves open: which
/// item (Zipf, mostly within the category just searched or browsed; a click opens the item that is then
/// viewed), the query, the cart, amounts (item price x quantity; checkout and purchase carry the cart total
/// less any coupon), the item reviewed or refunded (the one just bought). Reused across sessions.
/// </summary>
internal sealed class ShopperSession
{
    private const int CartCapacity = 8;

    private readonly ProductCatalog _catalog;
    private readonly ShopperSessionModel _defaultModel;
    private ShopperSessionModel _model;
    private readonly int[] _cart = new int[CartCapacity];
    private readonly double[] _cartAmount = new double[CartCapacity];
    private Xoshiro256StarStar _rng = null!;
    private double _tempo;
    private bool _browseOnly;
    private bool _started;
    private ShopperState _state;
    private int _cartCount;
    private int _currentItem;
    private int _category;
    private double _discount;
    private int _orderItem;
    private double _orderAmount;
    private int _lastPurchaseItem;
    private double _lastPurchaseAmount;

    public ShopperSession(ProductCatalog catalog, ShopperSessionModel model)
    {
        _catalog = catalog;
        _defaultModel = model;
        _model = model;
    }

    /// <summary>Starts a new session.</summary>
    /// <param name="browseOnly">End the session where the shopper would check out (an account that never orders).</param>
    /// <param name="model">The chain to walk this session (default: the one the walker was made with).</param>
    public void Begin(Xoshiro256StarStar rng, double tempo, bool browseOnly = false, ShopperSessionModel? model = null)
    {
        _model = model ?? _defaultModel;
        _rng = rng;
        _tempo = tempo;
        _browseOnly = browseOnly;
        _started = false;
        _state = ShopperState.Login;
        _cartCount = 0;
        _currentItem = -1;
        _category = -1;
        _discount = 0;
        _orderItem = -1;
        _orderAmount = 0;
        _lastPurchaseItem = -1;
        _lastPurchaseAmount = 0;
    }

    /// <summary>The next event of the session; false when the session has ended.</summary>
    public bool TryNext(out SessionStep step)
    {
        ShopperState previous = _state;
        long gap;
        if (!_started)
        {
            _started = true;
            _state = _model.SampleStart(_rng);
            gap = 0;
        }
        else
        {
            if (!_model.TrySampleNext(_state, _rng, out ShopperState next) || (_browseOnly && next is ShopperState.Checkout or ShopperState.ExpressCheckout))
            {
                step = default;
                return false;
            }
            _state = next;
            gap = _model.SampleGapMs(next, _tempo, _rng);
        }
        step = new SessionStep(_model.EventType(_state), gap);
        Fill(ref step, previous);
        return true;
    }

    private void Fill(ref SessionStep step, ShopperState previous)
    {
        switch (_state)
        {
            case ShopperState.View or ShopperState.CartView:
                // A click opens the item that is viewed next.
                bool opensClicked = previous is ShopperState.Click or ShopperState.CartClick && _currentItem >= 0 && _rng.Chance(0.8);
                if (!opensClicked) Browse(0.6);
                step.Item = _currentItem;
                break;
            case ShopperState.Click or ShopperState.CartClick:
                Browse(0.85);
                step.Item = _currentItem;
                break;
            case ShopperState.Search or ShopperState.CartSearch or ShopperState.Assistant:
                _category = _catalog.SampleCategory(_rng);
                step.Query = _catalog.SampleQuery(_category, _rng);
                break;
            case ShopperState.Favorite or ShopperState.CartFavorite:
                if (_currentItem < 0) Browse(0);
                step.Item = _currentItem;
                break;
            case ShopperState.Cart:
                if (_currentItem < 0 || _rng.Chance(0.15)) Browse(0.5); // a recommendation added from the cart page
                step.Item = _currentItem;
                step.Amount = AddToCart(_currentItem);
                break;
            case ShopperState.RemoveCart:
                _cartCount--;
                step.Item = _cart[_cartCount];
                step.Amount = _cartAmount[_cartCount];
                break;
            case ShopperState.Coupon:
                _discount = Math.Round(Math.Clamp(CartTotal() * _rng.Uniform(0.05, 0.15), 1.0, 30.0));
                step.Amount = _discount;
                break;
            case ShopperState.Checkout:
                if (previous == ShopperState.View || _cartCount == 0)
                {
                    if (_currentItem < 0) Browse(0);
                    AddToCart(_currentItem); // "buy now"
                }
                _orderItem = _cart[0];
                _orderAmount = Math.Max(0.5, Math.Round(CartTotal() - _discount, 2));
                step.Item = _orderItem;
                step.Amount = _orderAmount;
                break;
            case ShopperState.ExpressCheckout:
                // One click buys the item on the page (the cart is empty in every state that leads here).
                if (_currentItem < 0) Browse(0);
                AddToCart(_currentItem);
                _orderItem = _currentItem;
                _orderAmount = Math.Max(0.5, Math.Round(CartTotal() - _discount, 2));
                step.Item = _orderItem;
                step.Amount = _orderAmount;
                break;
            case ShopperState.PayFail:
                step.Item = _orderItem;
                step.Amount = _orderAmount;
                break;
            case ShopperState.Purchase:
                step.Item = _orderItem;
                step.Amount = _orderAmount;
                _lastPurchaseItem = _orderItem;
                _lastPurchaseAmount = _orderAmount;
                _cartCount = 0;
                _discount = 0;
                break;
            case ShopperState.Review:
                step.Item = _lastPurchaseItem;
                break;
            case ShopperState.Refund:
                step.Item = _lastPurchaseItem;
                step.Amount = _lastPurchaseAmount;
                break;
        }
    }

    /// <summary>Moves to another item: within the current category with the given probability, else anywhere.</summary>
    private void Browse(double stayInCategory)
    {
        _currentItem = _category >= 0 && _rng.Chance(stayInCategory)
            ? _catalog.SampleItemIn(_category, _rng)
            : _catalog.SampleItem(_rng);
        _category = _catalog.CategoryOf(_currentItem);
    }

    private double AddToCart(int item)
    {
        double u = _rng.NextDouble();
        int quantity = u < 0.9 ? 1 : u < 0.98 ? 2 : 3;
        double amount = Math.Round(_catalog.Price(item) * quantity, 2);
        int slot = Math.Min(_cartCount, CartCapacity - 1);
        _cart[slot] = item;
        _cartAmount[slot] = amount;
        _cartCount = slot + 1;
        return amount;
    }

    private double CartTotal()
    {
        double total = 0;
        for (int i = 0; i < _cartCount; i++) total += _cartAmount[i];
        return total;
    }
}
