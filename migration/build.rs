//! The list of migrations, written once: every `src/m<date>_<n>_<name>.rs` is
//! a migration, applied in the order of its file name (the order SeaORM
//! records them in). A new migration is its file and nothing else, so it
//! cannot be left out of the list; `src/lib.rs` includes what this writes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A build script fails by panicking.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("src");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("a readable directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter_map(|file| file.strip_suffix(".rs").map(str::to_owned))
        .filter(|name| is_migration(name))
        .collect();
    names.sort();
    let mut out = String::from("// Written by build.rs from the files of src/: do not edit.\n");
    for name in &names {
        let path = dir.join(format!("{name}.rs"));
        writeln!(out, "#[path = {:?}]\nmod {name};", path.display().to_string()).unwrap();
    }
    out.push_str("/// Every migration, in the order of their file names.\nfn every_migration() -> Vec<Box<dyn MigrationTrait>> {\n    vec![\n");
    for name in &names {
        writeln!(out, "        Box::new({name}::Migration),").unwrap();
    }
    out.push_str("    ]\n}\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("migrations.rs");
    std::fs::write(&target, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}

/// `m20261128_000001_star_schema`: an `m`, 8 digits, `_`, 6 digits, `_`, a name.
fn is_migration(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 17
        && b[0] == b'm'
        && b[1..9].iter().all(u8::is_ascii_digit)
        && b[9] == b'_'
        && b[10..16].iter().all(u8::is_ascii_digit)
        && b[16] == b'_'
}
