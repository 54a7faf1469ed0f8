//! Files that are not exports — directories, links, devices, huge lines,
//! dates outside four-digit years — fail at once with a clear message and
//! change nothing.

use std::time::{Duration, Instant};

use backend::etl::IngestOptions;

use crate::both;
use crate::helpers::{realistic_input, Engine, TestDb, TX_HEADER};

/// A folder with the realistic products and users, and `transactions` given.
fn with_transactions(make: impl FnOnce(&std::path::Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["products.csv", "users.csv"] {
        std::fs::copy(realistic_input().join(file), dir.path().join(file)).unwrap();
    }
    make(&dir.path().join("transactions.csv"));
    dir
}

/// Files that are not exports fail at once, with a short message naming the
/// file, and the run is recorded as failed with nothing changed.
async fn not_an_export(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let before = t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await;
    let secret = tempfile::tempdir().unwrap();
    std::fs::write(secret.path().join("passwd"), "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    let cases: Vec<(tempfile::TempDir, &str)> = vec![
        (with_transactions(|p| std::fs::create_dir(p).unwrap()), "a directory"),
        (
            with_transactions(|p| {
                let status = std::process::Command::new("mkfifo").arg(p).status().unwrap();
                assert!(status.success());
            }),
            "not a regular file",
        ),
        (
            with_transactions(|p| std::os::unix::fs::symlink(secret.path().join("passwd"), p).unwrap()),
            "outside the input folder",
        ),
        (
            with_transactions(|p| std::os::unix::fs::symlink("/dev/zero", p).unwrap()),
            "outside the input folder",
        ),
        (
            // 2 GB of zeros without a newline (sparse: instant to make).
            with_transactions(|p| std::fs::File::create(p).unwrap().set_len(2 << 30).unwrap()),
            "longer than 65536 bytes",
        ),
    ];
    for (dir, expected) in &cases {
        let started = Instant::now();
        let err = t
            .run(&IngestOptions::replace(dir.path()))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
        assert!(err.contains("transactions.csv"), "{err}");
        assert!(
            !err.contains("root:x:0"),
            "another file's content in the message: {err}"
        );
        // At most 200 characters of input quoted (escaped, NULs take two).
        assert!(err.len() < 800, "{} bytes: {err}", err.len());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{expected}: {:?}",
            started.elapsed()
        );
    }
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, before);
    let failed = t
        .rows("SELECT error FROM etl_run WHERE status = 'failed' ORDER BY id")
        .await;
    assert_eq!(failed.len(), cases.len());
    // A link to a file inside the input folder is an ordinary file.
    let linked = with_transactions(|p| {
        let real = p.with_file_name("transactions-2024.csv");
        std::fs::copy(realistic_input().join("transactions.csv"), &real).unwrap();
        std::os::unix::fs::symlink(&real, p).unwrap();
    });
    t.ingest(linked.path()).await.unwrap();
}
both!(not_an_export_fails_fast, not_an_export);

/// Peak memory is bounded on any input: a 512 MB line without a newline
/// (after a valid header) is rejected without being held, by a real process.
#[test]
fn a_huge_line_is_not_held_in_memory() {
    let db = tempfile::tempdir().unwrap();
    let dir = with_transactions(|p| {
        use std::io::Write;
        let mut f = std::fs::File::create(p).unwrap();
        writeln!(f, "{TX_HEADER}\r").unwrap();
        writeln!(f, "1/1/24 7:00\tt1\tcus_a\t\t1.00\tusd\r").unwrap();
        // The rest: 512 MB of zeros (a hole), no newline — read twice (both
        // passes) in a second or two; what matters is that it is never held.
        let at = f.metadata().unwrap().len();
        f.set_len(at + (512 << 20)).unwrap();
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(["ingest", "--max-reject-pct", "100", "--input"])
        .arg(dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db.path().join("t.db").display()),
        )
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("line_too_long"), "{stdout}");
    // ru_maxrss of the waited-for child, in KiB (Linux).
    #[allow(unsafe_code)]
    let peak_kib = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    };
    assert!(peak_kib < 200 * 1024, "peak RSS {} MB", peak_kib / 1024);
}

/// Date bounds that would leave four-digit years (or overflow the date
/// arithmetic) are refused on the command line, before anything is read.
#[test]
fn date_bounds_outside_four_digit_years_are_refused() {
    for (flag, value, why) in [
        ("--max-days-ahead", "4294967295", "36500"),
        ("--max-days-ahead", "36501", "36500"),
        ("--earliest-date", "0000-12-31", "0001 to 9999"),
        ("--earliest-date", "+10000-01-01", "0001 to 9999"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(["ingest", flag, value, "--input", "/nonexistent"])
            .env("DATABASE_URL", "sqlite::memory:")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains(why),
            "{flag} {value}: {stderr}"
        );
    }
}
