//! What an ingest is doing, for the person or the log collector watching it.
//!
//! Every phase logs its duration at info level when it ends. While a phase
//! counts rows, a terminal shows a progress bar per phase; anywhere else (cron,
//! containers, CI) a log line at most every [`crate::IngestOptions::progress_interval`]
//! (by default [`DEFAULT_INTERVAL_MS`]) carries the phase, the rows done and the rate.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The interval of the progress log lines by default, in milliseconds
/// (`--progress-interval-ms`, `PROGRESS_INTERVAL_MS`).
pub const DEFAULT_INTERVAL_MS: u64 = 5000;

/// Rows between two looks at the clock in the row loops.
pub const TICK_ROWS: u64 = 16_384;

/// The progress display of one run (cheap to clone).
#[derive(Clone)]
pub struct Progress {
    bars: Option<MultiProgress>,
    log_every: Duration,
    live: Option<Arc<Live>>,
}

/// What a run is doing now, for the server that runs it (`GET /ingests/{id}`
/// while an upload runs): the phase started last and its rows so far.
pub struct Live {
    started: Instant,
    phase: Mutex<&'static str>,
    rows: AtomicU64,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            phase: Mutex::new("starting"),
            rows: AtomicU64::new(0),
        }
    }
}

impl Live {
    pub fn snapshot(&self) -> api_types::IngestProgress {
        api_types::IngestProgress {
            phase: self.phase.lock().map_or("", |p| *p).to_owned(),
            rows: self.rows.load(Ordering::Relaxed),
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        }
    }

    fn start(&self, phase: &'static str) {
        if let Ok(mut p) = self.phase.lock() {
            *p = phase;
        }
        self.rows.store(0, Ordering::Relaxed);
    }
}

impl Progress {
    /// Bars on a terminal, log lines every `log_every` elsewhere.
    pub fn for_stderr(log_every: Duration) -> Self {
        let tty = std::io::stderr().is_terminal();
        Self {
            bars: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            log_every,
            live: None,
        }
    }

    /// Log lines every `log_every` (never bars: a server's stderr is a
    /// log), and `live` kept up to date.
    pub fn for_server(live: Arc<Live>, log_every: Duration) -> Self {
        Self {
            bars: None,
            log_every,
            live: Some(live),
        }
    }

    /// Starts a phase; `total` rows when known.
    pub fn phase(&self, name: &'static str, total: Option<u64>) -> Phase {
        if let Some(live) = &self.live {
            live.start(name);
        }
        let bar = self.bars.as_ref().map(|m| {
            let bar = match total {
                Some(n) => ProgressBar::new(n).with_style(
                    ProgressStyle::with_template(
                        "{msg:>34} [{bar:30}] {human_pos}/{human_len} rows ({per_sec}, {eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{msg:>34} {spinner} {human_pos} rows {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                ),
            };
            let bar = m.add(bar.with_message(name));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        tracing::debug!(phase = name, "phase started");
        Phase {
            name,
            started: Instant::now(),
            rows: AtomicU64::new(0),
            last_log: Mutex::new(Instant::now()),
            log_every: self.log_every,
            bar,
            bars: self.bars.clone(),
            live: self.live.clone(),
        }
    }
}

/// A phase of the run; logs its duration when finished (or dropped).
pub struct Phase {
    name: &'static str,
    started: Instant,
    rows: AtomicU64,
    last_log: Mutex<Instant>,
    log_every: Duration,
    bar: Option<ProgressBar>,
    bars: Option<MultiProgress>,
    live: Option<Arc<Live>>,
}

impl Phase {
    /// Rows done so far; call every [`TICK_ROWS`] rows or so.
    pub fn at(&self, rows: u64) {
        self.rows.store(rows, Ordering::Relaxed);
        if let Some(live) = &self.live {
            // Phases overlap (the three files are read side by side): the one
            // counting rows is the one to show.
            if let Ok(mut p) = live.phase.lock() {
                *p = self.name;
            }
            live.rows.store(rows, Ordering::Relaxed);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(rows);
            return;
        }
        let Ok(mut last) = self.last_log.lock() else { return };
        if last.elapsed() >= self.log_every {
            *last = Instant::now();
            let secs = self.started.elapsed().as_secs_f64();
            tracing::info!(
                phase = self.name,
                rows,
                rows_per_s = if secs > 0.0 { (rows as f64 / secs) as u64 } else { 0 },
                elapsed_ms = self.started.elapsed().as_millis() as u64,
                "progress"
            );
        }
    }

    /// Ends the phase with its final row count (0 when it does not count rows).
    pub fn done(self, rows: u64) {
        self.rows.store(rows, Ordering::Relaxed);
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            if let Some(m) = &self.bars {
                m.remove(&bar);
            }
        }
        let rows = self.rows.load(Ordering::Relaxed);
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        let rss_mb = crate::resident_mb();
        let log = || {
            if rows > 0 {
                tracing::info!(phase = self.name, elapsed_ms, rows, rss_mb, "phase done");
            } else {
                tracing::info!(phase = self.name, elapsed_ms, rss_mb, "phase done");
            }
        };
        match &self.bars {
            Some(m) => m.suspend(log),
            None => log(),
        }
    }
}
