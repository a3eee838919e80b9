//! Where the server may send a request a person configured (a webhook): never to link-local or
//! cloud metadata addresses, and to loopback and private networks only when the operator lists
//! them (`webhook_allow_networks`). A webhook is otherwise a way to make Drydock reach into the
//! network it runs in (server-side request forgery).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP network, `10.0.0.0/8` or `fd00::/8` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Network {
        Network { addr: IpAddr::V4(Ipv4Addr::new(a, b, c, d)), prefix }
    }

    const fn v6(segments: [u16; 8], prefix: u8) -> Network {
        let [a, b, c, d, e, f, g, h] = segments;
        Network { addr: IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)), prefix }
    }

    /// Whether `ip` lies in this network (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(n: &[u8], a: &[u8], prefix: u8) -> bool {
    let (full, rest) = (usize::from(prefix / 8), prefix % 8);
    if n[..full] != a[..full] {
        return false;
    }
    rest == 0 || (n[full] ^ a[full]) >> (8 - rest) == 0
}

/// `::ffff:a.b.c.d` as `a.b.c.d`; every other address as it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Network, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| format!("{s:?} is not a network (e.g. 10.0.0.0/8 or fd00::/8)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{s:?}: the prefix length is 0 to {max}"))?,
        };
        Ok(Network { addr, prefix })
    }
}

/// Never reachable, whatever the operator lists: link-local (where cloud metadata services
/// answer, 169.254.169.254), AWS's IPv6 metadata address, unspecified, multicast and broadcast.
const NEVER: [Network; 8] = [
    Network::v4(169, 254, 0, 0, 16),
    Network::v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
    Network::v6([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128),
    Network::v4(0, 0, 0, 0, 8),
    Network::v6([0, 0, 0, 0, 0, 0, 0, 0], 128),
    Network::v4(224, 0, 0, 0, 3),
    Network::v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
    Network::v4(255, 255, 255, 255, 32),
];

/// Reachable only when listed: loopback, private and shared address space, unique local IPv6.
const INTERNAL: [Network; 8] = [
    Network::v4(127, 0, 0, 0, 8),
    Network::v6([0, 0, 0, 0, 0, 0, 0, 1], 128),
    Network::v4(10, 0, 0, 0, 8),
    Network::v4(172, 16, 0, 0, 12),
    Network::v4(192, 168, 0, 0, 16),
    Network::v4(100, 64, 0, 0, 10),
    Network::v4(198, 18, 0, 0, 15),
    Network::v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
];

/// Host names of metadata services, refused by name.
const METADATA_NAMES: [&str; 3] = ["metadata.google.internal", "metadata.goog", "metadata"];

/// Which addresses a webhook may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<Network>,
}

impl AddressPolicy {
    /// From the operator's list (`webhook_allow_networks`); the error names the bad entry.
    pub fn parse(list: &[String]) -> Result<AddressPolicy, String> {
        let allowed = list.iter().map(|n| n.parse()).collect::<Result<Vec<Network>, String>>()?;
        Ok(AddressPolicy { allowed })
    }

    /// Whether a request may go to `ip`; the error says why not.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        let ip = canonical(ip);
        if NEVER.iter().any(|n| n.contains(ip)) {
            return Err(format!("{ip} is a link-local, metadata, unspecified or multicast address: never reachable"));
        }
        if INTERNAL.iter().any(|n| n.contains(ip)) && !self.allowed.iter().any(|n| n.contains(ip)) {
            return Err(format!("{ip} is a loopback or private address (an operator may allow it with webhook_allow_networks)"));
        }
        Ok(())
    }

    /// Whether a URL's host may be reached as far as can be told before resolving it: a literal
    /// address is checked; a metadata service's name is refused; other names are checked when
    /// resolved, at delivery.
    pub fn check_host(&self, host: &url::Host<&str>) -> Result<(), String> {
        match host {
            url::Host::Ipv4(a) => self.check_ip(IpAddr::V4(*a)),
            url::Host::Ipv6(a) => self.check_ip(IpAddr::V6(*a)),
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if METADATA_NAMES.contains(&d.as_str()) {
                    return Err(format!("{d} is a cloud metadata service: never reachable"));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_contain() {
        let n: Network = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains(ip("10.255.1.2")) && !n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        let n: Network = "172.16.0.0/12".parse().unwrap();
        assert!(n.contains(ip("172.31.255.255")) && !n.contains(ip("172.32.0.0")));
        let n: Network = "fe80::/10".parse().unwrap();
        assert!(n.contains(ip("febf::1")) && !n.contains(ip("fec0::1")));
        let one: Network = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        assert!("0.0.0.0/0".parse::<Network>().unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "::/129", "ten/8", "10.0.0.0/x", ""] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }

    #[test]
    fn metadata_and_link_local_are_never_reachable_internal_only_when_listed() {
        let everything = AddressPolicy::parse(&["0.0.0.0/0".into(), "::/0".into()]).unwrap();
        let none = AddressPolicy::default();
        for never in [
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "fd00:ec2::254",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "ff02::1",
            "::ffff:169.254.169.254",
        ] {
            assert!(everything.check_ip(ip(never)).is_err(), "{never}");
            assert!(none.check_ip(ip(never)).is_err(), "{never}");
        }
        for internal in ["127.0.0.1", "::1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "100.64.0.1", "fd12::1", "::ffff:127.0.0.1"] {
            assert!(none.check_ip(ip(internal)).is_err(), "{internal}");
            assert!(everything.check_ip(ip(internal)).is_ok(), "{internal}");
        }
        let loopback = AddressPolicy::parse(&["127.0.0.0/8".into()]).unwrap();
        assert!(loopback.check_ip(ip("127.0.0.1")).is_ok() && loopback.check_ip(ip("10.0.0.1")).is_err());
        for public in ["8.8.8.8", "2606:4700::1111", "93.184.216.34"] {
            assert!(none.check_ip(ip(public)).is_ok(), "{public}");
        }
        assert!(none.check_host(&url::Host::Domain("metadata.google.internal.")).is_err());
        assert!(none.check_host(&url::Host::Domain("METADATA.google.internal")).is_err());
        assert!(none.check_host(&url::Host::Domain("hooks.example.com")).is_ok());
        assert!(AddressPolicy::parse(&["nonsense".into()]).unwrap_err().contains("nonsense"));
    }
}
