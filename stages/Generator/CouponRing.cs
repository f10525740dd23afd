namespace StreamDetect.Stages.Generator;

/// <summary>
/// Linked accounts abused together: they share one device and one address during their episodes, claim
/// the same new-user coupon and place a first order each, minutes apart.
/// </summary>
internal sealed class CouponRing(int index, string device, string ip, double couponValue, long startMs)
{
    public int Index { get; } = index;
    public string Device { get; } = device;
    public string Ip { get; } = ip;
    public double CouponValue { get; } = couponValue;
    public long StartMs { get; } = startMs;
    public List<int> Members { get; } = [];
}
