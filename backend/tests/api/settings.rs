//! The README's configuration table, held to the binary: every variable
//! `backend <command> --help` names is in the table with its flag, its
//! commands and the default --help prints; the table names no variable the
//! binary does not read; and every variable read outside the command line
//! is one the table and `configuration::environment_outside_the_command_line`
//! list.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The commands whose --help is read.
const COMMANDS: &[&str] = &["ingest", "serve", "token", "history", "healthcheck", "generate"];

/// One variable as --help shows it.
#[derive(Debug)]
struct HelpVariable {
    command: &'static str,
    flag: String,
    variable: String,
    default: Option<String>,
}

/// `backend COMMAND --help`, with no variable set (else --help shows their values).
fn help(command: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_backend"))
        .args([command, "--help"])
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command} --help: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The variables of a command's long help: each `--flag` line, then its
/// `[env: NAME=]` and `[default: VALUE]` lines.
fn help_variables(command: &'static str) -> Vec<HelpVariable> {
    let mut found: Vec<HelpVariable> = Vec::new();
    let mut flag = None;
    for line in help(command).lines() {
        let text = line.trim();
        let indent = line.len() - line.trim_start().len();
        // Flags are indented 2 (`-h, --help`) or 6 (`--bind`), their text 10.
        if text.starts_with('-') && indent <= 6 {
            flag = text
                .split([' ', ','])
                .find(|word| word.starts_with("--"))
                .map(str::to_owned);
        } else if let Some(rest) = text.strip_prefix("[env: ") {
            // `[env: NAME=]`, or `[env: NAME]` when its value is hidden.
            let variable = rest.split(['=', ']']).next().unwrap().to_owned();
            found.push(HelpVariable {
                command,
                flag: flag
                    .clone()
                    .unwrap_or_else(|| panic!("{command}: {variable} under no flag")),
                variable,
                default: None,
            });
        } else if let Some(rest) = text.strip_prefix("[default: ") {
            let default = rest.strip_suffix(']').unwrap().to_owned();
            if let Some(last) = found.last_mut().filter(|v| Some(&v.flag) == flag.as_ref()) {
                last.default = Some(default);
            }
        }
    }
    found
}

/// A row of the README's table.
#[derive(Debug)]
struct Row {
    /// The flag cell: its flags and, in parentheses, its commands.
    flags: String,
    variables: Vec<String>,
    default: String,
}

fn readme_rows() -> Vec<Row> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let header = "| Flag (command) | Variable | Default | Meaning |";
    let start = readme.find(header).expect("the README has its configuration table");
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let variables = cells[2]
                .split('`')
                .skip(1)
                .step_by(2)
                .map(|code| code.split('=').next().unwrap().to_owned())
                .filter(|name| {
                    name.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                })
                .collect();
            Row {
                flags: cells[1].to_owned(),
                variables,
                default: cells[3].replace('`', ""),
            }
        })
        .collect()
}

/// The commands a flag cell names: `` `--flag` (ingest, serve, repeatable) ``.
fn commands_of(flags: &str) -> Vec<&str> {
    flags
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside.split(',').map(str::trim).collect())
        .unwrap_or_default()
}

#[test]
fn readme_table_matches_help() {
    let rows = readme_rows();
    let from_help: Vec<HelpVariable> = COMMANDS.iter().flat_map(|c| help_variables(c)).collect();
    assert!(
        from_help.len() > 30,
        "--help names {} variables: {from_help:?}",
        from_help.len()
    );
    let mut problems = Vec::new();
    for v in &from_help {
        let row = rows.iter().find(|row| {
            row.variables.contains(&v.variable)
                && row.flags.contains(&format!("`{}`", v.flag))
                && commands_of(&row.flags).contains(&v.command)
        });
        let Some(row) = row else {
            problems.push(format!(
                "no README row for `{}` with `{}` ({})",
                v.variable, v.flag, v.command
            ));
            continue;
        };
        if let Some(default) = &v.default {
            let same = row.default == *default || row.default.starts_with(&format!("{default} ("));
            if !same {
                problems.push(format!(
                    "`{}`: the README says {:?}, `{} --help` {default:?}",
                    v.variable, row.default, v.command
                ));
            }
        }
    }
    let outside = backend::configuration::environment_outside_the_command_line();
    let read: BTreeSet<&str> = from_help
        .iter()
        .map(|v| v.variable.as_str())
        .chain(outside.iter().copied())
        .collect();
    let named: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.variables.iter().map(String::as_str))
        .collect();
    for name in named.difference(&read) {
        problems.push(format!("the README names `{name}`, which the binary does not read"));
    }
    for name in read.difference(&named) {
        problems.push(format!("`{name}` is read but not in the README"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every `std::env::var("…")` / `var_os("…")` of the crates' sources reads
/// a variable listed as read outside the command line: a new one is either
/// a flag (and so in --help and the README) or added to that list.
#[test]
fn environment_is_read_only_where_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let outside = backend::configuration::environment_outside_the_command_line();
    let mut sources = Vec::new();
    for dir in [
        "backend/src",
        "backend/domain/src",
        "backend/store/src",
        "backend/etl/src",
        "backend/reports/src",
        "backend/server/src",
        "migration/src",
    ] {
        collect_rust_files(&root.join(dir), &mut sources);
    }
    assert!(sources.len() > 50, "found only {} sources", sources.len());
    let mut unlisted = Vec::new();
    for path in &sources {
        let text = std::fs::read_to_string(path).unwrap();
        for call in ["env::var(\"", "env::var_os(\""] {
            for (i, _) in text.match_indices(call) {
                let name = text[i + call.len()..].split('"').next().unwrap();
                if !outside.contains(&name) {
                    unlisted.push(format!("{}: {name}", path.display()));
                }
            }
        }
        assert!(
            !text.contains("from_default_env") || path.ends_with("telemetry.rs"),
            "{} reads RUST_LOG: only telemetry.rs does",
            path.display()
        );
    }
    assert!(
        unlisted.is_empty(),
        "read outside the command line, unlisted: {unlisted:?}"
    );
}

fn collect_rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
