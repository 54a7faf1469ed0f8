//! Who the client is: its address, read through the trusted proxies in
//! front of the server (for the sign-in rate limit and the logs).

use std::net::IpAddr;

/// A `--trusted-proxy`: a network (`10.0.0.0/8`) or one address (`10.0.0.7`).
pub fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a network such as 10.0.0.0/8"))
}

/// The client's address, given the TCP peer, the `X-Forwarded-For` values in
/// the order received, and the trusted proxies. A peer that is not a trusted
/// proxy is the client. Otherwise the list is read from the right (each
/// proxy appends the address it saw) past the trusted proxies: the first
/// other address is the client. An entry that is not an address ends the
/// walk at the last trusted one, since only trusted hops are believed.
pub fn client_address<'a>(peer: IpAddr, forwarded: impl Iterator<Item = &'a [u8]>, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer.to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    // Split as bytes: a proxy appends to what the client sent in the same
    // value, so bytes that are not text in the client's part must not spoil
    // the proxy's entry (they are an entry that is no address).
    let hops: Vec<&[u8]> = forwarded.flat_map(|value| value.split(|&b| b == b',')).collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        let hop = std::str::from_utf8(hop).unwrap_or("?").trim();
        let parsed = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|a| a.ip()));
        let Ok(ip) = parsed.map(|ip| ip.to_canonical()) else {
            return nearest;
        };
        if !is_trusted(&ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(peer: &str, forwarded: &[&str], trusted: &[&str]) -> String {
        let trusted: Vec<ipnet::IpNet> = trusted.iter().map(|t| parse_proxy(t).unwrap()).collect();
        client_address(peer.parse().unwrap(), forwarded.iter().map(|f| f.as_bytes()), &trusted).to_string()
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_says_otherwise() {
        // Nobody trusted: the header is anyone's to write.
        assert_eq!(client("198.51.100.9", &["203.0.113.5"], &[]), "198.51.100.9");
        // A peer that is not a trusted proxy: its header is ignored.
        assert_eq!(
            client("198.51.100.9", &["203.0.113.5"], &["10.0.0.0/8"]),
            "198.51.100.9"
        );
        // A trusted proxy: the address it saw.
        assert_eq!(client("10.0.0.2", &["203.0.113.5"], &["10.0.0.0/8"]), "203.0.113.5");
        // What the client wrote itself comes first and is not believed; the
        // chain of trusted proxies is walked from the right.
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4, 203.0.113.5, 10.0.0.3"], &["10.0.0.0/8"]),
            "203.0.113.5"
        );
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4", "203.0.113.5,10.0.0.3"], &["10.0.0.0/8"]),
            "203.0.113.5"
        );
        // Ports and IPv6, and an IPv4 peer written as IPv6.
        assert_eq!(client("10.0.0.2", &["203.0.113.5:4711"], &["10.0.0.2"]), "203.0.113.5");
        assert_eq!(client("10.0.0.2", &["[2001:db8::7]:443"], &["10.0.0.2"]), "2001:db8::7");
        assert_eq!(
            client("::ffff:10.0.0.2", &["203.0.113.5"], &["10.0.0.2"]),
            "203.0.113.5"
        );
        // Junk, or no header, stops at the last trusted hop.
        assert_eq!(client("10.0.0.2", &["203.0.113.5, junk"], &["10.0.0.0/8"]), "10.0.0.2");
        assert_eq!(
            client("10.0.0.2", &["203.0.113.5, 10.0.0.3, junk"], &["10.0.0.0/8"]),
            "10.0.0.2"
        );
        assert_eq!(client("10.0.0.2", &[], &["10.0.0.0/8"]), "10.0.0.2");
        // Bytes that are not text in the client's part of a value do not
        // spoil the proxy's entry after them.
        let value = [&b"\xff, "[..], b"203.0.113.5"].concat();
        let trusted = [parse_proxy("10.0.0.0/8").unwrap()];
        let peer = "10.0.0.2".parse().unwrap();
        assert_eq!(
            client_address(peer, [&value[..]].into_iter(), &trusted).to_string(),
            "203.0.113.5"
        );
        // Every hop trusted: the farthest one.
        assert_eq!(client("10.0.0.2", &["10.0.0.9"], &["10.0.0.0/8"]), "10.0.0.9");
        assert!(parse_proxy("10.0.0.0/33").is_err());
        assert!(parse_proxy("proxy.local").unwrap_err().contains("proxy.local"));
    }
}
