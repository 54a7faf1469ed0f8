//! `backend healthcheck`: asks a running server's `/health/ready`, for a
//! container's `HEALTHCHECK` (the runtime image has no curl).
//!
//! One HTTP/1.0 GET over a plain TCP connection to a loopback address, with
//! a timeout: a client crate would add a TLS stack and a runtime for a
//! request that never leaves the container.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Why the server is not ready.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot resolve {bind}: {source}")]
    Address { bind: String, source: std::io::Error },
    #[error("no server answers at {addr}: {source}")]
    Connect { addr: SocketAddr, source: std::io::Error },
    #[error("the server at {addr} did not answer: {source}")]
    Read { addr: SocketAddr, source: std::io::Error },
    #[error("not ready: {addr} answered {status_line:?}")]
    NotReady { addr: SocketAddr, status_line: String },
}

/// The address to ask for a server bound to `bind`: a wildcard address
/// (0.0.0.0, ::) is asked on the loopback address of its family.
pub fn probe_address(bind: &str) -> Result<SocketAddr, ProbeError> {
    let failed = |source| ProbeError::Address {
        bind: bind.to_owned(),
        source,
    };
    let mut addr = bind
        .to_socket_addrs()
        .map_err(failed)?
        .next()
        .ok_or_else(|| failed(std::io::Error::other("no address")))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Ok(addr)
}

/// `Ok` when the server at `bind` answers `GET /health/ready` with 200 within `timeout`.
pub fn ready(bind: &str, timeout: Duration) -> Result<(), ProbeError> {
    let addr = probe_address(bind)?;
    let connect = |source| ProbeError::Connect { addr, source };
    let read = |source| ProbeError::Read { addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(connect)?;
    stream.set_read_timeout(Some(timeout)).map_err(read)?;
    stream.set_write_timeout(Some(timeout)).map_err(read)?;
    stream
        .write_all(
            format!("GET /health/ready HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: backend-healthcheck\r\n\r\n").as_bytes(),
        )
        .map_err(read)?;
    // The status line is all that matters; read at most a few KiB.
    let mut head = Vec::with_capacity(512);
    stream.take(4096).read_to_end(&mut head).map_err(read)?;
    let status_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => Err(ProbeError::NotReady { addr, status_line }),
    }
}

#[cfg(test)]
mod tests {
    use super::probe_address;

    #[test]
    fn wildcards_are_asked_on_loopback() {
        assert_eq!(probe_address("0.0.0.0:8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(probe_address("[::]:9").unwrap().to_string(), "[::1]:9");
        assert_eq!(probe_address("127.0.0.1:80").unwrap().to_string(), "127.0.0.1:80");
        assert!(probe_address("nonsense").is_err());
    }
}
