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
    // Enough requests that the old growth (~18 bytes each: 360 KB at the
    // minimum) stands out of the allocator's noise (its heap grows by 128
    // KiB steps) and of the second of samples kept between upkeeps (1-3
    // bytes a request measured). On a loaded machine a debug server answers
    // some 2,000 requests a second; the test runs alone (.config/nextest.toml).
    assert!(
        sent >= 20_000,
        "only {sent} requests in {seconds:.1} s: too few to measure"
    );
    assert!(
        grown < sent * 3 + 160 * 1024,
        "the resident size grew by {grown} bytes over {sent} requests ({} a request)",
        grown as f64 / sent as f64
    );
}

crate::both!(memory_flat, memory_stays_flat_without_scrapes);

/// The values the labels of `/metrics` may take, from the code: the known
/// methods and `other`; the route templates (the OpenAPI document's, the
/// documentation's) and `static`, `unmatched`; the status codes HTTP names
/// and the classes; the modes, statuses and files of runs and `other`.
struct ClosedSets {
    methods: Vec<String>,
    routes: Vec<String>,
    statuses: Vec<String>,
    modes: Vec<String>,
    run_statuses: Vec<String>,
    files: Vec<String>,
}

impl ClosedSets {
    fn new() -> Self {
        use backend::etl::{Mode, RunStatus};
        use backend::monitoring::{METHODS, OTHER};
        let with_other =
            |known: Vec<&str>| -> Vec<String> { known.into_iter().chain([OTHER]).map(str::to_owned).collect() };
        let mut routes: Vec<String> = backend::openapi::document().paths.paths.keys().cloned().collect();
        routes.extend(["/openapi.json", "/docs", "/docs/{file:.*}", "static", "unmatched"].map(str::to_owned));
        let statuses = (100..1000u16)
            .filter_map(|c| reqwest::StatusCode::from_u16(c).ok())
            .filter(|s| s.canonical_reason().is_some())
            .map(|s| s.as_str().to_owned())
            .chain((1..=9).map(|class| format!("{class}xx")))
            .collect();
        Self {
            methods: with_other(METHODS.to_vec()),
            routes,
            statuses,
            modes: with_other(Mode::ALL.iter().map(|m| m.as_str()).collect()),
            run_statuses: with_other(RunStatus::ALL.iter().map(|s| s.as_str()).collect()),
            files: with_other(backend::etl::FILES.to_vec()),
        }
    }

    /// The set a label's values come from.
    fn of(&self, metric: &str, label: &str) -> Option<&[String]> {
        let set = match (metric, label) {
            (m, "method") if m.starts_with("http_") => &self.methods,
            (m, "route") if m.starts_with("http_") => &self.routes,
            (m, "status") if m.starts_with("http_") => &self.statuses,
            (m, "mode") if m.starts_with("revenue_ingest_") => &self.modes,
            (m, "status") if m.starts_with("revenue_ingest_") => &self.run_statuses,
            (m, "file") if m.starts_with("revenue_ingest_") => &self.files,
            _ => return None,
        };
        Some(set)
    }

    /// The most series of HTTP requests there can be.
    fn max_request_series(&self) -> usize {
        self.routes.len() * self.methods.len() * self.statuses.len()
    }
}

/// The series of `http_requests_total` (one per label set).
fn request_series(samples: &crate::operations::Samples) -> usize {
    samples
        .iter()
        .filter(|(name, _, _)| name == "http_requests_total")
        .count()
}

/// A thousand made-up methods and a thousand distinct paths (unknown, under
/// `/reports/`, `/ingests/{id}`, `/docs/`), and runs whose mode, status and
/// file names this code never writes: `/metrics` keeps to the closed sets
/// and grows by a few series, not thousands (it grew by one a method).
async fn metrics_series_are_bounded(engine: Engine) {
    use backend::entities::{etl_run, etl_run_file};
    use sea_orm::{ActiveModelTrait, Set};
    let t = TestDb::new(engine).await;
    let app = crate::helpers::TestApp::spawn(&t.db).await;
    let at = chrono::Utc::now().naive_utc();
    for i in 0..50 {
        let run = etl_run::ActiveModel {
            started_at: Set(at),
            finished_at: Set(Some(at)),
            status: Set(if i % 2 == 0 {
                "succeeded".to_owned()
            } else {
                format!("status_{i}")
            }),
            input_dir: Set("/tmp".to_owned()),
            mode: Set(format!("mode_{i}")),
            data_changed: Set(false),
            ..Default::default()
        }
        .insert(&t.db)
        .await
        .unwrap();
        etl_run_file::ActiveModel {
            run_id: Set(run.id),
            file: Set(format!("file_{i}.csv")),
            sha256: Set(format!("{i:064}")),
            bytes: Set(1),
            rows_read: Set(1),
            rows_loaded: Set(1),
            rows_duplicate: Set(0),
            rows_rejected: Set(0),
            rows_already_loaded: Set(0),
            same_as_run: Set(None),
        }
        .insert(&t.db)
        .await
        .unwrap();
    }
    let scrape = |app: &crate::helpers::TestApp| {
        let (client, url) = (app.client.clone(), format!("{}/metrics", app.address));
        async move {
            let res = client.get(url).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200);
            let text = res.text().await.unwrap();
            (text.len(), crate::operations::scrape(&text))
        }
    };
    let (_, before) = scrape(&app).await;

    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let (client, address) = (app.client.clone(), app.address.clone());
            tokio::spawn(async move {
                for i in (task..1000).step_by(8) {
                    let method = reqwest::Method::from_bytes(format!("M{i:04}X").as_bytes()).unwrap();
                    let made_up = ["/nowhere", "/reports/meta", "/ingests/1", "/session"][i % 4];
                    client
                        .request(method, format!("{address}{made_up}"))
                        .send()
                        .await
                        .unwrap();
                    let path = match i % 5 {
                        0 => format!("/x{i}"),
                        1 => format!("/reports/x{i}"),
                        2 => format!("/ingests/{i}"),
                        3 => format!("/ingests/{i}/x{i}"),
                        _ => format!("/docs/x{i}"),
                    };
                    client.get(format!("{address}{path}")).send().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let (size, after) = scrape(&app).await;

    let sets = ClosedSets::new();
    for (name, labels, _) in &after {
        for (label, value) in labels {
            if let Some(set) = sets.of(name, label) {
                assert!(set.contains(value), "{name}: {label}=\"{value}\" is not one of {set:?}");
            }
        }
    }
    let series = request_series(&after);
    eprintln!(
        "{} request series before the flood, {series} after; /metrics is {size} bytes",
        request_series(&before)
    );
    assert!(series <= sets.max_request_series());
    // The flood of 2,000 distinct requests: a few new series (its routes
    // and statuses, with `other`), where it was one a method or path.
    assert!(
        series - request_series(&before) < 64,
        "{} series before, {series} after ({size} bytes)",
        request_series(&before)
    );
    assert!(size < 256 * 1024, "/metrics is {size} bytes");
}

crate::both!(metrics_bounded, metrics_series_are_bounded);

/// Behind a trusted proxy, a client that takes a new IPv6 address of its
/// /64 for each guess is still one client: its guesses are limited, and its
/// neighbours in other networks are not.
async fn an_ipv6_client_is_its_network(engine: Engine) {
    use backend::auth::Role;
    use backend::startup::ServeSettings;
    let t = TestDb::new(engine).await;
    let admin = crate::access::token(&t, "admin", Role::Admin).await;
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.auth.failures_per_minute = std::num::NonZeroU32::new(3).unwrap();
    settings.auth.trusted_proxies = vec![backend::auth::client::parse_proxy("127.0.0.1").unwrap()];
    let app = crate::helpers::TestApp::spawn_settings(&t.db, settings).await;
    let attempt = |from: String, token: &str| {
        app.client
            .get(format!("{}/quality", app.address))
            .bearer_auth(token)
            .header("X-Forwarded-For", from)
            .send()
    };
    for (i, expected) in [401, 401, 401, 429].into_iter().enumerate() {
        let res = attempt(format!("2001:db8:7:7::{:x}", i + 1), "rak_wrong")
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), expected, "guess {i}");
    }
    let res = attempt("2001:db8:7:7:abcd::1".to_owned(), &admin).await.unwrap();
    assert_eq!(res.status().as_u16(), 429, "a right guess from the same /64 waits too");
    // Another /64: authorized (404: nothing is loaded).
    let res = attempt("2001:db8:7:8::1".to_owned(), &admin).await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

crate::both!(ipv6_network_limit, an_ipv6_client_is_its_network);
