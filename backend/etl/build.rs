//! The list of aggregates, written once: every file in `src/aggregates/` (but
//! `mod.rs`) is a module of it, and every one that implements `Aggregate`
//! (`impl Aggregate for T`) is registered, under its module's name. A new
//! aggregate is its file and nothing else, so it cannot be left out of the
//! registry; `src/aggregates/mod.rs` includes what this writes.

use std::error::Error;
use std::path::Path;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR")?)
        .join("src")
        .join("aggregates");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut modules: Vec<(String, Option<String>)> = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))? {
        let path = entry?.path();
        let Some(name) = path
            .file_name()
            .and_then(|f| f.to_str())
            .and_then(|f| f.strip_suffix(".rs"))
        else {
            continue;
        };
        if name != "mod" {
            modules.push((name.to_owned(), aggregate_of(&path)?));
        }
    }
    modules.sort();
    let mut out = String::from("// Written by build.rs from the files of src/aggregates/: do not edit.\n");
    for (name, _) in &modules {
        let path = dir.join(format!("{name}.rs")).display().to_string();
        out.push_str(&format!("#[path = {path:?}]\npub mod {name};\n"));
    }
    out.push_str("registry! {\n");
    for (name, aggregate) in &modules {
        if let Some(aggregate) = aggregate {
            out.push_str(&format!("    {name}: {name}::{aggregate},\n"));
        }
    }
    out.push_str("}\n");
    let target = Path::new(&std::env::var("OUT_DIR")?).join("aggregates.rs");
    std::fs::write(&target, out).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    Ok(())
}

/// The type a module's `impl Aggregate for T` line names, if it has one.
fn aggregate_of(path: &Path) -> Result<Option<String>, Box<dyn Error>> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut implemented = source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("impl Aggregate for "))
        .map(|rest| rest.trim_end_matches('{').trim().to_owned());
    let first = implemented.next();
    if let Some(second) = implemented.next() {
        return Err(format!(
            "{} implements Aggregate twice ({second}): one aggregate per file",
            path.display()
        )
        .into());
    }
    Ok(first)
}
