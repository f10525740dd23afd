namespace StreamDetect.Stages.Alerts;

/// <summary>
/// Where the alerting event came from: its device and IP address (as the event gave them; null when it had
/// none) and what the user's features say about them.
/// </summary>
/// <param name="Device">The alerting event's <c>device</c> field.</param>
/// <param name="Ip">The alerting event's <c>ip</c> field.</param>
/// <param name="NewDevice">The device was new for the user (the <c>device_new</c> feature).</param>
/// <param name="NewIp">The IP address was new for the user (<c>ip_new</c>).</param>
/// <param name="DevicesSeen">Distinct devices the user has used (<c>devices_distinct</c>, at most 8 counted).</param>
/// <param name="IpsSeen">Distinct IP addresses the user has used (<c>ips_distinct</c>, at most 8 counted).</param>
public sealed record AlertContext(string? Device, string? Ip, bool NewDevice, bool NewIp, int DevicesSeen, int IpsSeen);
