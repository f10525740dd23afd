namespace StreamDetect.Stages.Generator;

/// <summary>
/// A shopper's stable devices and addresses: one or two devices, a home IP, a carrier IP for a phone,
/// sometimes a work IP. Each session picks one device and one address and keeps them.
/// </summary>
internal sealed class UserIdentity
{
    private readonly string[] _devices;
    private readonly string _homeIp;
    private readonly string? _mobileIp;
    private readonly string? _workIp;

    public UserIdentity(Xoshiro256StarStar rng)
    {
        string primary = NetworkIdentities.NewDevice(NetworkIdentities.RandomPlatform(rng), rng);
        if (rng.Chance(0.35))
        {
            // A second device is usually the other kind: a laptop beside a phone, or a phone beside a laptop.
            string platform = NetworkIdentities.IsMobile(primary) ? (rng.Chance(0.7) ? "web" : "ipad") : (rng.Chance(0.5) ? "ios" : "android");
            _devices = [primary, NetworkIdentities.NewDevice(platform, rng)];
        }
        else
        {
            _devices = [primary];
        }
        _homeIp = NetworkIdentities.ResidentialIp(rng);
        if (_devices.Any(NetworkIdentities.IsMobile)) _mobileIp = NetworkIdentities.MobileIp(rng);
        if (rng.Chance(0.3)) _workIp = NetworkIdentities.ResidentialIp(rng);
    }

    public IReadOnlyList<string> Devices => _devices;

    public string PrimaryDevice => _devices[0];

    public string HomeIp => _homeIp;

    /// <summary>Every address this user's own sessions use.</summary>
    public IEnumerable<string> Ips => new[] { _homeIp, _mobileIp, _workIp }.OfType<string>();

    /// <summary>The device and address of a new session.</summary>
    public (string Device, string Ip) ForSession(Xoshiro256StarStar rng)
    {
        string device = _devices.Length > 1 && rng.Chance(0.3) ? _devices[1] : _devices[0];
        double u = rng.NextDouble();
        string ip = NetworkIdentities.IsMobile(device) && _mobileIp is not null && u < 0.4 ? _mobileIp
            : _workIp is not null && u > 0.85 ? _workIp
            : _homeIp;
        return (device, ip);
    }
}
