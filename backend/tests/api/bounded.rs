//! What a server keeps per request stays bounded whatever clients send: its
//! memory does not grow with the number of requests (nobody scraping
//! `/metrics`), and `/metrics` does not grow with made-up methods or paths.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;

use crate::helpers::{Engine, TestDb};

/// A `backend serve` process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `backend serve` on a random port of 127.0.0.1, on `t`'s database,
    /// request logging off (its cost is not what is measured).
    fn start(t: &TestDb) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(["serve", "--bind", "127.0.0.1:0", "--static-dir", "/nonexistent"])
            .env("DATABASE_URL", t.settings.url().expose_secret())
            .env("RUST_LOG", "info")
            .env("REQUEST_LOG", "off")
            .env_remove("LOG_FORMAT")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads stderr to its end: a full pipe would stop the server.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((_, rest)) = line.split_once("listening on http://127.0.0.1:") {
                    let digits = rest.split(|c: char| !c.is_ascii_digit()).next().unwrap_or_default();
                    let _ = tx.send(digits.parse::<u16>().ok());
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(120))
            .ok()
            .flatten()
            .expect("the server did not start");
        Self { child, port }
    }

    /// Its resident size, in bytes (`VmRSS` of /proc/PID/status).
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("no VmRSS");
        kb * 1024
    }

    /// Sends up to `count` `GET path` over `connections` keep-alive
    /// connections (pipelined, in batches), stopping at `deadline`; returns
    /// how many were answered 200.
    fn burst(&self, path: &str, count: u64, connections: u64, deadline: Instant) -> u64 {
        const BATCH: u64 = 256;
        let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
        let batch = request.repeat(BATCH as usize).into_bytes();
        let threads: Vec<_> = (0..connections)
            .map(|_| {
                let (batch, port) = (batch.clone(), self.port);
                let share = count / connections;
                std::thread::spawn(move || {
                    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                    let mut answered = 0;
                    let mut buf = vec![0u8; 1 << 16];
                    while answered + BATCH <= share && Instant::now() < deadline {
                        s.write_all(&batch).unwrap();
                        let (mut got, mut tail) = (0, Vec::new());
                        while got < BATCH {
                            let n = s.read(&mut buf).unwrap();
                            assert!(n > 0, "the server closed the connection");
                            tail.extend_from_slice(&buf[..n]);
                            got += count_ok(&tail);
                            // Keep what may be the start of a status line cut in two.
                            let keep = tail.len().saturating_sub(OK.len() - 1);
                            tail.drain(..keep);
                        }
                        assert_eq!(got, BATCH, "a response was not 200");
                        answered += BATCH;
                    }
                    answered
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum()
    }
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\n";

/// Complete `200 OK` status lines in `bytes`.
fn count_ok(bytes: &[u8]) -> u64 {
    bytes.windows(OK.len()).filter(|w| *w == OK).count() as u64
}

/// Without anyone scraping `/metrics`, a burst of requests leaves the
/// server's resident size where it was (the exporter's histograms once kept
/// every sample until a scrape: ~8-16 bytes a request).
async fn memory_stays_flat_without_scrapes(engine: Engine) {
    let t = TestDb::new(engine).await;
    let (before, after, sent, seconds) = tokio::task::spawn_blocking(move || {
        let server = Server::start(&t);
        // Warm up: the connections' buffers, the workers' arenas.
        server.burst("/health/live", 8 * 1024, 4, Instant::now() + Duration::from_secs(10));
        std::thread::sleep(Duration::from_secs(2));
        let before = server.rss();
        let started = Instant::now();
        let sent = server.burst("/health/live", 1_000_000, 4, started + Duration::from_secs(18));
        let seconds = started.elapsed().as_secs_f64();
        // Upkeep runs every second: give it two.
        std::thread::sleep(Duration::from_secs(2));
        let after = server.rss();
        drop(server);
        drop(t);
        (before, after, sent, seconds)
    })
    .await
    .unwrap();
    let grown = after.saturating_sub(before);
    eprintln!(
        "{sent} requests in {seconds:.1} s: resident {} -> {} KiB ({:+.2} bytes a request)",
        before / 1024,
        after / 1024,
        (after as f64 - before as f64) / sent as f64
    );
    // Enough requests that the old growth (~16 bytes each) stands out of
    // the allocator's noise (its heap grows by 128 KiB steps).
    assert!(sent >= 40_000, "only {sent} requests in {seconds:.1} s: too few to measure");
    assert!(
        grown < sent * 4 + 256 * 1024,
        "the resident size grew by {grown} bytes over {sent} requests ({} a request)",
        grown as f64 / sent as f64
    );
}

crate::both!(memory_flat, memory_stays_flat_without_scrapes);
