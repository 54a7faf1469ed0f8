//! The list of aggregates, written once: every file in `src/aggregates/` (but
//! `mod.rs`) is a module of it, and every one that implements `Aggregate`
//! (`impl Aggregate for T`) is registered, under its module's name. A new
//! aggregate is its file and nothing else, so it cannot be left out of the
//! registry; `src/aggregates/mod.rs` includes what this writes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A build script fails by panicking.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("src")
        .join("aggregates");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut modules: Vec<(String, Option<String>)> = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
        let path = entry.expect("a readable directory entry").path();
        let Some(name) = path
            .file_name()
            .and_then(|f| f.to_str())
            .and_then(|f| f.strip_suffix(".rs"))
        else {
            continue;
        };
        if name == "mod" {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut implemented = source
            .lines()
            .filter_map(|line| line.trim().strip_prefix("impl Aggregate for "))
            .map(|rest| rest.trim_end_matches('{').trim().to_owned());
        let aggregate = implemented.next();
        if let Some(second) = implemented.next() {
            panic!(
                "{} implements Aggregate twice ({second}): one aggregate per file",
                path.display()
            );
        }
        modules.push((name.to_owned(), aggregate));
    }
    modules.sort();
    let mut out = String::from("// Written by build.rs from the files of src/aggregates/: do not edit.\n");
    for (name, _) in &modules {
        let path = dir.join(format!("{name}.rs"));
        writeln!(out, "#[path = {:?}]\npub mod {name};", path.display().to_string()).unwrap();
    }
    out.push_str("registry! {\n");
    for (name, aggregate) in &modules {
        if let Some(aggregate) = aggregate {
            writeln!(out, "    {name}: {name}::{aggregate},").unwrap();
        }
    }
    out.push_str("}\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("aggregates.rs");
    std::fs::write(&target, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}
