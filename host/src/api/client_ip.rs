//! Who the client is behind a reverse proxy. Forwarding headers are believed only when the
//! peer is a configured proxy (`AVA_TRUSTED_PROXIES`): anyone else could write them, and
//! the per-IP rate limits would then be keyed by whatever a client claims.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address ranges whose `X-Forwarded-For` / `X-Real-IP` are trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` with `headers`.
    ///
    /// From a trusted peer: the rightmost `X-Forwarded-For` address that is not a trusted
    /// proxy (each proxy appends the address it saw, so addresses left of the first
    /// untrusted one were written by the client and prove nothing); without that header,
    /// `X-Real-IP`; otherwise the peer itself.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(parse_addr)
            .collect();
        if !forwarded.is_empty() {
            // Every hop trusted: the leftmost is as far back as the chain can be believed.
            return forwarded
                .iter()
                .rev()
                .copied()
                .find(|ip| !self.contains(*ip))
                .unwrap_or(forwarded[0]);
        }
        headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_addr)
            .unwrap_or(peer)
    }
}

impl Default for TrustedProxies {
    /// Loopback only: a proxy on the same machine (the Vite dev server, a local nginx).
    fn default() -> Self {
        "127.0.0.0/8,::1/128".parse().expect("valid ranges")
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of CIDR ranges or single addresses; empty: trust no one.
    fn from_str(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{part:?} is not an address or a CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

/// An address as a proxy writes it: bare, or with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_addr(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`, how a dual-stack socket reports IPv4 peers) as IPv4,
/// so IPv4 ranges match it.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-real-ip", "1.2.3.4")]);
        assert_eq!(trusted.client(ip("203.0.113.9"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let trusted: TrustedProxies = "10.0.0.0/8, 172.28.0.0/16".parse().unwrap();
        // The client wrote 1.2.3.4; nginx appended the address it saw; a second proxy too.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.1.2.3")]);
        assert_eq!(trusted.client(ip("172.28.0.5"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn several_forwarded_for_headers_read_as_one_list() {
        let trusted: TrustedProxies = "127.0.0.1".parse().unwrap();
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "127.0.0.2"),
        ]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &h), ip("127.0.0.2"));
    }

    #[test]
    fn without_forwarded_for_a_trusted_proxy_s_real_ip_is_used() {
        let trusted = TrustedProxies::default();
        let h = headers(&[("x-real-ip", "198.51.100.7")]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &h), ip("198.51.100.7"));
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn garbage_and_ports_in_headers_are_handled() {
        let trusted = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "nonsense, 198.51.100.7:4431")]);
        assert_eq!(trusted.client(ip("::1"), &h), ip("198.51.100.7"));
        let h = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(trusted.client(ip("::1"), &h), ip("::1"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_ranges() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let h = headers(&[("x-real-ip", "198.51.100.7")]);
        assert_eq!(
            trusted.client(ip("::ffff:10.0.0.1"), &h),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn parsing_names_the_bad_part_and_empty_trusts_no_one() {
        let err = "10.0.0.0/8, banana".parse::<TrustedProxies>().unwrap_err();
        assert!(err.contains("banana"), "{err}");
        let none: TrustedProxies = "".parse().unwrap();
        assert!(!none.contains(ip("127.0.0.1")));
    }
}
