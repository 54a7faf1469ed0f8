//! The shape of the code, checked: which crate may depend on which (from
//! `cargo metadata`), and no loop between the top-level modules of a crate
//! (from the `crate::` paths of its sources). Nothing else would notice a
//! layer reaching up, so these tests are the walls of the house.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The workspace crates a crate may use (normal and build dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("api-types", &[]),
    ("domain", &["api-types"]),
    ("saas", &["api-types"]),
    ("store", &["domain", "migration", "api-types"]),
    ("etl", &["store", "domain", "migration", "api-types"]),
    ("reports", &["store", "domain", "saas", "api-types"]),
    (
        "server",
        &["reports", "etl", "store", "domain", "migration", "api-types"],
    ),
    (
        "backend",
        &["server", "reports", "etl", "store", "domain", "migration", "api-types"],
    ),
];

/// The only crates allowed to pull in actix (directly or through another crate).
const HTTP_CRATES: &[&str] = &["server", "backend"];

fn metadata() -> Value {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn crates_depend_only_downwards() {
    let meta = metadata();
    let members: BTreeSet<String> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    let packages = meta["packages"].as_array().unwrap();
    let names: BTreeSet<&str> = packages
        .iter()
        .filter(|p| members.contains(p["id"].as_str().unwrap()))
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for (krate, allowed) in ALLOWED {
        assert!(names.contains(krate), "{krate} is not a workspace member");
        let package = packages.iter().find(|p| p["name"] == *krate).unwrap();
        for dep in package["dependencies"].as_array().unwrap() {
            let name = dep["name"].as_str().unwrap();
            let dev = dep["kind"].as_str() == Some("dev");
            if names.contains(name) && !dev {
                assert!(
                    allowed.contains(&name),
                    "{krate} depends on {name}; it may use only {allowed:?}"
                );
            }
        }
    }
}

#[test]
fn only_the_http_crates_pull_in_actix() {
    let meta = metadata();
    let packages = meta["packages"].as_array().unwrap();
    let name_of: BTreeMap<&str, &str> = packages
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    // The resolved graph, normal dependencies only (what a build links).
    let nodes = meta["resolve"]["nodes"].as_array().unwrap();
    let deps: BTreeMap<&str, Vec<&str>> = nodes
        .iter()
        .map(|n| {
            let normal = n["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null()))
                .map(|d| d["pkg"].as_str().unwrap())
                .collect();
            (n["id"].as_str().unwrap(), normal)
        })
        .collect();
    for (krate, _) in ALLOWED.iter().filter(|(k, _)| !HTTP_CRATES.contains(k)) {
        let start = name_of.iter().find(|(_, n)| *n == krate).map(|(id, _)| *id).unwrap();
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(id) = todo.pop() {
            if !seen.insert(id) {
                continue;
            }
            let name = name_of[id];
            assert!(
                !name.starts_with("actix"),
                "{krate} pulls in {name}: HTTP belongs to server"
            );
            todo.extend(deps.get(id).into_iter().flatten());
        }
    }
}

/// The top-level module each `crate::<module>` path of a crate's sources names.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let top_level: BTreeSet<String> = std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_owned();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|n| n != "lib" && n != "main")
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = vec![src.to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_str().unwrap();
        let module = first.trim_end_matches(".rs").to_owned();
        if !top_level.contains(&module) {
            continue; // lib.rs / main.rs: the root declares and re-exports every module
        }
        // How deep the file's module is: `a.rs` and `a/mod.rs` are 1, `a/b.rs` 2.
        let depth = relative.components().count() - usize::from(relative.ends_with("mod.rs"));
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for target in paths_from_the_root(line, depth) {
                if target != module && top_level.contains(&target) {
                    graph.entry(module.clone()).or_default().insert(target);
                }
            }
        }
    }
    graph
}

/// The first segment below the crate root of each path in `line` that
/// starts at the root: `crate::x`, or as many `super::` as the file is deep.
fn paths_from_the_root(line: &str, depth: usize) -> Vec<String> {
    let ident = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    for (at, _) in line.match_indices("crate::") {
        if !line[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            found.push(ident(&line[at + "crate::".len()..]));
        }
    }
    let mut rest = line;
    while let Some(at) = rest.find("super::") {
        let before = &rest[..at];
        let mut after = &rest[at..];
        let mut ups = 0;
        while let Some(next) = after.strip_prefix("super::") {
            ups += 1;
            after = next;
        }
        if ups == depth && !before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            found.push(ident(after));
        }
        rest = after;
    }
    found
}

/// Every cycle's members, found by depth-first search (empty: no loops).
fn loops(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        if let Some(i) = path.iter().position(|p| p == node) {
            found.push(path[i..].to_vec());
            return;
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, found);
        }
        path.pop();
        done.insert(node.to_owned());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn no_crate_has_modules_importing_each_other_in_a_loop() {
    let mut report = Vec::new();
    for src in [
        "backend/domain/src",
        "backend/saas/src",
        "backend/store/src",
        "backend/etl/src",
        "backend/reports/src",
        "backend/server/src",
        "backend/src",
    ] {
        for cycle in loops(&module_graph(&root().join(src))) {
            report.push(format!("{src}: {}", cycle.join(" → ")));
        }
    }
    assert!(
        report.is_empty(),
        "modules importing each other in a loop:\n{}",
        report.join("\n")
    );
}

#[test]
fn paths_are_read_from_the_root() {
    assert_eq!(paths_from_the_root("use crate::load::Loader;", 2), vec!["load"]);
    assert_eq!(paths_from_the_root("use super::error::EtlError;", 1), vec!["error"]);
    assert_eq!(paths_from_the_root("use super::Loader;", 2), Vec::<String>::new());
    assert_eq!(paths_from_the_root("use super::super::rows::Row;", 2), vec!["rows"]);
    assert_eq!(paths_from_the_root("x(mycrate::a, crate::b)", 1), vec!["b"]);
}

#[test]
fn the_loop_finder_finds_loops() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
            .collect();
    assert_eq!(
        loops(&graph),
        vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]
    );
    let acyclic: BTreeMap<String, BTreeSet<String>> = [("a".to_owned(), ["b".to_owned()].into_iter().collect())]
        .into_iter()
        .collect();
    assert!(loops(&acyclic).is_empty());
}

/// Files over 500 lines and functions over 80 (outside tests and
/// migrations) allowed for now, with their sizes: none may grow, none may
/// be added, and one that gets under its limit must leave the list. Both
/// lists were paid off on 2026-12-03 (issue 21); keep them empty.
const FILES_OVER_500: &[(&str, usize)] = &[];
const FUNCTIONS_OVER_80: &[(&str, &str, usize)] = &[];

/// Every `.rs` file of the crates (not their tests), relative to the root.
fn sources() -> Vec<String> {
    let mut found = Vec::new();
    let mut todo: Vec<PathBuf> = [
        "api-types/src",
        "backend/domain/src",
        "backend/saas/src",
        "backend/store/src",
        "backend/etl/src",
        "backend/reports/src",
        "backend/server/src",
        "backend/src",
    ]
    .iter()
    .map(|d| root().join(d))
    .collect();
    while let Some(path) = todo.pop() {
        if path.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .replace("/../", "/");
            found.push(relative.trim_start_matches("../").to_owned());
        }
    }
    found.sort();
    found
}

/// The lines of a source file before its test module (which comes last:
/// clippy's `items_after_test_module` keeps it so).
fn code_lines(relative: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(relative)).unwrap();
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .map(str::to_owned)
        .collect()
}

/// Each function's name and length in lines (rustfmt style: a body ends at
/// the `}` indented like its `fn`).
fn function_lengths(lines: &[String]) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let mut rest = trimmed;
        for prefix in ["pub(crate) ", "pub(super) ", "pub ", "async ", "const ", "unsafe "] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        let Some(signature) = rest.strip_prefix("fn ") else {
            continue;
        };
        if line.trim_end().ends_with(';') {
            continue;
        }
        let name: String = signature
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
            found.push((name, end + 2));
        }
    }
    found
}

#[test]
fn no_file_or_function_grows_past_its_limit() {
    let mut problems = Vec::new();
    let mut seen_files = Vec::new();
    let mut seen_functions = Vec::new();
    for file in sources() {
        let lines = code_lines(&file);
        let total = std::fs::read_to_string(root().join(&file)).unwrap().lines().count();
        if total > 500 {
            match FILES_OVER_500.iter().find(|(f, _)| *f == file) {
                Some((_, known)) if total <= *known => seen_files.push(file.clone()),
                Some((_, known)) => {
                    seen_files.push(file.clone());
                    problems.push(format!("{file}: {total} lines, was {known}: it may only shrink"));
                }
                None => problems.push(format!("{file}: {total} lines (over 500)")),
            }
        }
        for (name, length) in function_lengths(&lines) {
            if length <= 80 {
                continue;
            }
            match FUNCTIONS_OVER_80.iter().find(|(f, n, _)| *f == file && *n == name) {
                Some((_, _, known)) if length <= *known => seen_functions.push((file.clone(), name)),
                Some((_, _, known)) => {
                    seen_functions.push((file.clone(), name.clone()));
                    problems.push(format!(
                        "{file}: fn {name} is {length} lines, was {known}: it may only shrink"
                    ));
                }
                None => problems.push(format!("{file}: fn {name} is {length} lines (over 80)")),
            }
        }
    }
    for (file, _) in FILES_OVER_500 {
        if !seen_files.iter().any(|f| f == file) {
            problems.push(format!(
                "{file} is no longer over 500 lines: remove it from FILES_OVER_500"
            ));
        }
    }
    for (file, name, _) in FUNCTIONS_OVER_80 {
        if !seen_functions.iter().any(|(f, n)| f == file && n == name) {
            problems.push(format!(
                "{file}: fn {name} is no longer over 80 lines: remove it from FUNCTIONS_OVER_80"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn function_lengths_are_measured_from_fn_to_its_brace() {
    let code: Vec<String> = "pub async fn a() {\n    x();\n}\nfn b();\n    fn c(\n        y: u8,\n    ) {\n    }\n"
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(function_lengths(&code), vec![("a".to_owned(), 3), ("c".to_owned(), 4)]);
}
