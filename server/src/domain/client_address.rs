//! Who the client is, as the throttles count it.
//!
//! The client is the connection's peer, unless the peer is a reverse proxy the operator
//! trusts (setting `trusted_proxies`): then it is the address that proxy, and any trusted proxy
//! before it, says the request came from in `X-Forwarded-For`, read from the right, since only
//! the entries that trusted proxies appended can be believed. Clients are told apart by network
//! address, an IPv6 client by its /64 network, which one subscriber usually holds whole (so that
//! rotating through its addresses does not buy more attempts). What is stored is only a keyed
//! pseudonym of that key (see `kyc::vault::Counted`).

use std::net::IpAddr;

use ipnet::IpNet;

/// The client's address: `peer`, or if `peer` is trusted, the rightmost address in the
/// `X-Forwarded-For` values `forwarded` that is not itself a trusted proxy (the leftmost if
/// all are). A list that does not parse as addresses leaves the last trusted hop as the client.
pub fn client_ip<'a>(peer: IpAddr, forwarded: impl IntoIterator<Item = &'a str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.into_iter().flat_map(|value| value.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// The key an address is counted under: the address itself for IPv4 (also written as
/// IPv4-mapped IPv6), its /64 network for IPv6.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(client_ip(ip("203.0.113.7"), ["198.51.100.1"], &[]), ip("203.0.113.7"));
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("203.0.113.7"), ["198.51.100.1"], &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_entries_before_it_do_not_count() {
        let trusted = nets(&["10.0.0.0/8", "192.0.2.1/32"]);
        // The client sent a made-up entry; the proxy appended the address it saw.
        assert_eq!(
            client_ip(ip("10.1.1.1"), ["1.2.3.4, 198.51.100.9"], &trusted),
            ip("198.51.100.9")
        );
        // Two proxies in a row, the header split over two lines.
        assert_eq!(
            client_ip(ip("10.1.1.1"), ["1.2.3.4, 198.51.100.9", "192.0.2.1"], &trusted),
            ip("198.51.100.9")
        );
        // IPv4-mapped IPv6 is the IPv4 address.
        assert_eq!(
            client_ip(ip("10.1.1.1"), ["::ffff:198.51.100.9"], &trusted),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn without_a_believable_entry_the_last_trusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(client_ip(ip("10.1.1.1"), [], &trusted), ip("10.1.1.1"));
        assert_eq!(client_ip(ip("10.1.1.1"), ["not an address"], &trusted), ip("10.1.1.1"));
        assert_eq!(client_ip(ip("10.1.1.1"), ["10.2.2.2"], &trusted), ip("10.2.2.2"));
        assert_eq!(
            client_ip(ip("10.1.1.1"), ["198.51.100.9, junk, 10.2.2.2"], &trusted),
            ip("10.2.2.2")
        );
    }

    #[test]
    fn addresses_are_counted_alone_and_ipv6_by_its_network() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), key("2001:db8:1:2:aaaa::1"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::1"), "::/64");
    }
}
