//! The list of migrations, written once: every `src/m<date>_<n>_<name>.rs` is
//! a migration, applied in the order of its file name (the order SeaORM
//! records them in). A new migration is its file and nothing else, so it
//! cannot be left out of the list; `src/lib.rs` includes what this writes.

use std::error::Error;
use std::path::Path;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR")?).join("src");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))? {
        let file = entry?.file_name().to_string_lossy().into_owned();
        if let Some(name) = file.strip_suffix(".rs").filter(|name| is_migration(name)) {
            names.push(name.to_owned());
        }
    }
    names.sort();
    let mut out = String::from("// Written by build.rs from the files of src/: do not edit.\n");
    for name in &names {
        let path = dir.join(format!("{name}.rs")).display().to_string();
        out.push_str(&format!("#[path = {path:?}]\nmod {name};\n"));
    }
    out.push_str("/// Every migration, in the order of their file names.\n");
    out.push_str("fn every_migration() -> Vec<Box<dyn MigrationTrait>> {\n    vec![\n");
    for name in &names {
        out.push_str(&format!("        Box::new({name}::Migration),\n"));
    }
    out.push_str("    ]\n}\n");
    let target = Path::new(&std::env::var("OUT_DIR")?).join("migrations.rs");
    std::fs::write(&target, out).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    Ok(())
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
