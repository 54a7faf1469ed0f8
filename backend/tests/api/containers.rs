//! The container files (Dockerfile, .dockerignore, docker-compose.yaml,
//! scripts/compose-secrets.sh), checked without Docker: every command they make
//! the binaries run parses, every path they copy or mount is in the repository,
//! the image runs unprivileged with a health check, and the stack waits for its
//! database and migrations, publishes on loopback only and keeps its passwords
//! in secrets. Where Docker Compose is installed, `docker compose config` too.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The real `backend`, with only the environment given, as in a container.
fn backend(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts that `backend ARGS` is a valid command line: with `--help` added,
/// clap checks every subcommand, flag and value (an unknown flag or a bad
/// value fails) and prints the help instead of running anything.
fn assert_backend_accepts(args: &[String]) -> String {
    let mut with_help: Vec<&str> = args.iter().map(String::as_str).collect();
    with_help.push("--help");
    let out = backend(&with_help, &[]);
    let help = text(&out);
    assert!(out.status.success(), "backend {}: {help}", args.join(" "));
    help
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_owned())
        .collect()
}

// ---- Dockerfile -------------------------------------------------------------

/// One instruction: its stage (1 for the first FROM), keyword and arguments
/// (continuation lines joined, runs of whitespace made one space).
struct Instruction {
    stage: usize,
    keyword: String,
    args: String,
}

struct Dockerfile(Vec<Instruction>);

impl Dockerfile {
    fn read() -> Self {
        let mut instructions = Vec::new();
        let (mut stage, mut pending) = (0, String::new());
        for line in read("Dockerfile").lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(head) = line.strip_suffix('\\') {
                pending.push_str(head);
                pending.push(' ');
                continue;
            }
            pending.push_str(line);
            let (keyword, args) = pending.split_once(' ').unwrap_or((pending.as_str(), ""));
            let keyword = keyword.to_ascii_uppercase();
            stage += usize::from(keyword == "FROM");
            instructions.push(Instruction {
                stage,
                keyword,
                args: args.split_whitespace().collect::<Vec<_>>().join(" "),
            });
            pending.clear();
        }
        Dockerfile(instructions)
    }

    fn last_stage(&self) -> usize {
        self.0.last().map_or(0, |i| i.stage)
    }

    /// The arguments of every `keyword` instruction of `stage`.
    fn all(&self, stage: usize, keyword: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|i| i.stage == stage && i.keyword == keyword)
            .map(|i| i.args.as_str())
            .collect()
    }

    fn one(&self, stage: usize, keyword: &str) -> &str {
        match self.all(stage, keyword).as_slice() {
            [one] => one,
            other => panic!("stage {stage}: expected one {keyword}, found {other:?}"),
        }
    }

    /// The `ENV` variables of `stage`.
    fn env(&self, stage: usize) -> Vec<(String, String)> {
        self.all(stage, "ENV")
            .iter()
            .flat_map(|args| args.split(' '))
            .map(|pair| {
                let (k, v) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("ENV {pair}: use NAME=value"));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    fn env_var(&self, stage: usize, name: &str) -> String {
        let env = self.env(stage);
        let found = env.iter().find(|(k, _)| k == name);
        found.unwrap_or_else(|| panic!("no ENV {name}")).1.clone()
    }

    /// The `COPY`s of `stage`: (the --from stage or "", sources, destination).
    fn copies(&self, stage: usize) -> Vec<(String, Vec<String>, String)> {
        self.all(stage, "COPY")
            .iter()
            .map(|args| {
                let mut words: Vec<&str> = args.split(' ').collect();
                let from = words
                    .iter()
                    .find_map(|w| w.strip_prefix("--from="))
                    .unwrap_or_default()
                    .to_owned();
                words.retain(|w| !w.starts_with("--"));
                let dest = words.pop().unwrap().to_owned();
                (from, words.iter().map(|w| (*w).to_owned()).collect(), dest)
            })
            .collect()
    }

    /// Every `RUN` of `stage`, as one text.
    fn runs(&self, stage: usize) -> String {
        self.all(stage, "RUN").join("\n")
    }
}

/// A JSON-form command (`CMD ["backend", "healthcheck"]`), which runs without
/// a shell.
fn exec_form(args: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(args).unwrap_or_else(|e| panic!("{args}: not the exec form: {e}"));
    strings(&value)
}

/// The `.dockerignore` patterns. The matcher below knows `*` and `**` only.
fn dockerignore() -> Vec<String> {
    let patterns: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_start_matches("./").trim_end_matches('/').to_owned())
        .collect();
    for p in &patterns {
        assert!(!p.contains(['!', '?', '[', '\\']), "{p}: teach this test that syntax");
    }
    patterns
}

/// Whether `pattern` excludes `path` from the build context: it matches the
/// path or one of the folders above it.
fn ignored(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let parts: Vec<&str> = path.split('/').collect();
    (1..=parts.len()).any(|n| glob_path(&pattern, &parts[..n]))
}

fn glob_path(pattern: &[&str], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((&"**", rest)) => (0..=parts.len()).any(|i| glob_path(rest, &parts[i..])),
        Some((p, rest)) => parts
            .split_first()
            .is_some_and(|(name, tail)| glob_name(p, name) && glob_path(rest, tail)),
    }
}

fn glob_name(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => name.strip_prefix(prefix).is_some_and(|tail| {
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob_name(rest, &tail[i..]))
        }),
    }
}

/// The files git tracks under `paths`; `None` outside a git checkout.
fn tracked(paths: &[String]) -> Option<Vec<String>> {
    let out = Command::new("git")
        .args(["ls-files", "-z", "--"])
        .args(paths)
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let list = String::from_utf8(out.stdout).unwrap();
    Some(list.split('\0').filter(|f| !f.is_empty()).map(str::to_owned).collect())
}

#[test]
fn image_builds_what_the_project_builds() {
    let file = Dockerfile::read();
    assert_eq!(file.one(1, "FROM"), "rust:1-bookworm AS build");
    assert_eq!(file.last_stage(), 2, "a build stage and a runtime stage");
    let workdir = file.one(1, "WORKDIR");

    // What it copies exists, covers the workspace, and reaches the context.
    let sources: Vec<String> = file.copies(1).into_iter().flat_map(|(_, s, _)| s).collect();
    for source in &sources {
        assert!(root().join(source).exists(), "COPY {source}: not in the repository");
    }
    let manifest = read("Cargo.toml");
    let members = manifest.lines().find(|l| l.starts_with("members")).unwrap();
    for member in members.split('"').skip(1).step_by(2) {
        assert!(
            sources
                .iter()
                .any(|s| s == member || member.starts_with(&format!("{s}/"))),
            "the workspace member {member} is not copied (neither it nor a folder holding it)"
        );
    }
    for needed in ["Cargo.toml", "Cargo.lock", "Trunk.toml", "scripts/build-frontend.sh"] {
        assert!(sources.iter().any(|s| s == needed), "{needed} is not copied");
    }
    let patterns = dockerignore();
    match tracked(&sources) {
        Some(files) => {
            assert!(files.len() > 50, "{files:?}");
            for f in files {
                let excluded = patterns.iter().find(|p| ignored(p, &f));
                assert!(excluded.is_none(), "{f} is copied but .dockerignore has {excluded:?}");
            }
        }
        None => crate::helpers::skip("not a git checkout, the copied files are not listed"),
    }
    // What must never reach the build context.
    for private in [
        "secrets/database_url",
        ".git/config",
        "target/release/backend",
        "data/revenue.db",
        "frontend/dist/index.html",
        "e2e/node_modules/x/package.json",
        ".tools/node_modules/.bin/wasm-opt",
    ] {
        assert!(
            patterns.iter().any(|p| ignored(p, private)),
            "{private} is in the context"
        );
    }

    // The dashboard by the project's own script, with the Debian packages it
    // expects (the same list as the script's), and the two binaries.
    let runs = file.runs(1);
    assert!(runs.contains("bash scripts/build-frontend.sh"), "{runs}");
    assert!(
        runs.contains("cargo build --release --locked -p backend -p migration"),
        "{runs}"
    );
    assert!(
        runs.contains("cp target/release/backend target/release/migration /out/"),
        "{runs}"
    );
    let script = read("scripts/build-frontend.sh");
    let apt_line = script.lines().find(|l| l.contains("dpkg -s")).unwrap();
    let packages = apt_line.split(" in ").nth(1).unwrap().split(';').next().unwrap();
    let install = runs.lines().find(|l| l.contains("apt-get install")).unwrap();
    for package in packages.split_whitespace() {
        assert!(
            install.split(' ').any(|w| w == package),
            "{package} is not installed: {install}"
        );
    }
    // Trunk writes the dashboard where the runtime stage takes it from.
    let trunk = read("Trunk.toml");
    let dist = trunk
        .lines()
        .find_map(|l| l.strip_prefix("dist = "))
        .unwrap()
        .trim_matches('"');
    let built = format!("{workdir}/{dist}");
    assert!(
        file.copies(2)
            .iter()
            .any(|(from, s, _)| from == "build" && *s == [built.as_str()]),
        "the runtime stage does not copy {built}"
    );
}

#[test]
fn image_runs_unprivileged_with_a_health_check() {
    let file = Dockerfile::read();
    let stage = file.last_stage();
    assert_eq!(file.one(stage, "FROM"), "debian:bookworm-slim");

    // A fixed, non-root uid, created with that uid and owning the data folder.
    let user = file.one(stage, "USER");
    let (uid, gid) = user.split_once(':').unwrap_or((user, user));
    let uid: u32 = uid.parse().unwrap_or_else(|_| panic!("USER {user}: use a numeric uid"));
    assert!(uid >= 1000 && gid.parse::<u32>().is_ok_and(|g| g != 0), "USER {user}");
    let runs = file.runs(stage);
    let useradd = runs.split("&&").find(|c| c.contains("useradd")).unwrap();
    assert!(useradd.contains(&format!("--uid {uid} ")), "{useradd}");
    let name = useradd.split_whitespace().last().unwrap();
    let workdir = file.one(stage, "WORKDIR");
    let data = Path::new(workdir).join(backend::configuration::DEFAULT_SQLITE_PATH);
    let data = data.parent().unwrap().display().to_string();
    assert!(runs.contains(&format!("mkdir -p {data} ")), "{runs}");
    assert!(runs.contains(&format!("chown {name}:{name} {data}")), "{runs}");

    // The binaries, and what runs by default.
    let copies = file.copies(stage);
    let binaries = copies.iter().find(|(_, _, dest)| dest == "/usr/local/bin/").unwrap();
    assert_eq!(binaries.1, ["/out/backend", "/out/migration"]);
    assert_eq!(exec_form(file.one(stage, "ENTRYPOINT")), ["backend"]);
    let cmd = exec_form(file.one(stage, "CMD"));
    assert_eq!(cmd, ["serve"]);
    let serve_help = assert_backend_accepts(&cmd);
    let healthcheck = file.one(stage, "HEALTHCHECK");
    let (_, probe) = healthcheck.split_once("CMD ").unwrap();
    let probe = exec_form(probe);
    assert_eq!(probe, ["backend", "healthcheck"]);
    let probe_help = assert_backend_accepts(&probe[1..]);

    // Every variable is one the binary reads; serve and the health check
    // agree on BIND, which is the exposed port; STATIC_DIR is the dashboard.
    for (name, _) in file.env(stage) {
        assert!(
            serve_help.contains(&format!("[env: {name}=")),
            "serve does not read {name}"
        );
    }
    assert!(probe_help.contains("[env: BIND="), "{probe_help}");
    let bind = file.env_var(stage, "BIND");
    assert_eq!(Some(file.one(stage, "EXPOSE")), bind.rsplit(':').next());
    let static_dir = file.env_var(stage, "STATIC_DIR");
    assert!(copies
        .iter()
        .any(|(from, _, dest)| from == "build" && dest == &static_dir));
}

// ---- docker-compose.yaml ------------------------------------------------------

/// Compose's interpolation as it happens with none of the variables set:
/// `${NAME:-default}` becomes the default. Every variable needs one.
fn with_defaults(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let expr = &rest[start + 2..end];
        let (_, default) = expr
            .split_once(":-")
            .unwrap_or_else(|| panic!("${{{expr}}} has no default"));
        out.push_str(default);
        rest = &rest[end + 1..];
    }
    out + rest
}

fn compose() -> Value {
    let text = with_defaults(&read("docker-compose.yaml"));
    let yaml: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

/// The services that run the image built here.
const IMAGE_SERVICES: [&str; 3] = ["migrate", "app", "ingest"];

/// The value at `/services/SERVICE` + `path` (a JSON pointer).
fn field<'a>(compose: &'a Value, service: &str, path: &str) -> &'a Value {
    compose
        .pointer(&format!("/services/{service}{path}"))
        .unwrap_or_else(|| panic!("services.{service}: no {path}"))
}

#[test]
fn compose_runs_the_stack_in_order() {
    let compose = compose();
    let mut services: Vec<&String> = compose["services"].as_object().unwrap().keys().collect();
    services.sort();
    assert_eq!(services, ["app", "ingest", "migrate", "postgres"]);
    let condition = |service: &str, on: &str| field(&compose, service, &format!("/depends_on/{on}/condition")).clone();
    assert!(field(&compose, "postgres", "/image")
        .as_str()
        .unwrap()
        .starts_with("postgres:"));
    assert!(field(&compose, "postgres", "/healthcheck/test").is_array());
    assert_eq!(condition("migrate", "postgres"), "service_healthy");
    assert_eq!(condition("app", "migrate"), "service_completed_successfully");
    assert_eq!(condition("ingest", "migrate"), "service_completed_successfully");
    assert_eq!(field(&compose, "app", "/restart"), "unless-stopped");

    // One image, built from this repository's Dockerfile.
    assert!(root().join("Dockerfile").is_file());
    let image = field(&compose, "app", "/image");
    for service in IMAGE_SERVICES {
        assert_eq!(field(&compose, service, "/build"), ".", "{service}");
        assert_eq!(field(&compose, service, "/image"), image, "{service}");
    }

    // The migrations: the migration binary's `up`, from sea-orm-migration's
    // CLI (cli::run_cli_with_connection, feature "cli"), which reads DATABASE_URL after
    // resolve_database_url_env has read DATABASE_URL_FILE into it.
    assert_eq!(strings(field(&compose, "migrate", "/entrypoint")), ["migration"]);
    assert_eq!(strings(field(&compose, "migrate", "/command")), ["up"]);
    let main = read("migration/src/main.rs");
    assert!(main.contains("migration::resolve_database_url_env()"), "{main}");
    assert!(
        main.contains("cli::run_cli_with_connection(migration::Migrator"),
        "{main}"
    );
    assert!(read("migration/src/lib.rs").contains("\"DATABASE_URL_FILE\""));
    assert!(read("migration/Cargo.toml").contains("sea-orm-migration.workspace = true"));
    let workspace = read("Cargo.toml");
    let dependency = workspace
        .lines()
        .find(|l| l.starts_with("sea-orm-migration ="))
        .unwrap();
    assert!(dependency.contains("\"cli\""), "{dependency}");
    // One-shot services report no health: they are not servers.
    for one_shot in ["migrate", "ingest"] {
        assert_eq!(field(&compose, one_shot, "/healthcheck/disable"), true, "{one_shot}");
    }

    // The server: a command backend accepts, listening on the port published
    // (on loopback) and on the one the image's health check asks (BIND).
    let command = strings(field(&compose, "app", "/command"));
    assert_backend_accepts(&command);
    let bind = &command[command.iter().position(|a| a == "--bind").unwrap() + 1];
    let port = bind.rsplit(':').next().unwrap();
    let ports = strings(field(&compose, "app", "/ports"));
    assert_eq!(ports, [format!("127.0.0.1:{port}:{port}")]);
    let file = Dockerfile::read();
    let probed = compose
        .pointer("/services/app/environment/BIND")
        .and_then(Value::as_str)
        .map_or_else(|| file.env_var(file.last_stage(), "BIND"), str::to_owned);
    assert_eq!(probed.rsplit(':').next(), Some(port), "the health check asks {probed}");
    assert_eq!(field(&compose, "app", "/environment/ALLOW_ANONYMOUS"), "true");

    // A load of ./input, read-only, under its own profile.
    assert_eq!(strings(field(&compose, "ingest", "/profiles")), ["ingest"]);
    let command = strings(field(&compose, "ingest", "/command"));
    assert_backend_accepts(&command);
    let input = &command[command.iter().position(|a| a == "--input").unwrap() + 1];
    assert_eq!(
        strings(field(&compose, "ingest", "/volumes")),
        [format!("./input:{input}:ro")]
    );
    assert!(root().join("input/transactions.csv").is_file());

    // The commands the header tells to run.
    let header = read("docker-compose.yaml");
    let header: Vec<&str> = header.lines().take_while(|l| l.starts_with('#')).collect();
    let run = header
        .iter()
        .find_map(|l| l.split_once("docker compose run --rm app "))
        .unwrap();
    let args: Vec<String> = run.1.split_whitespace().map(str::to_owned).collect();
    assert_eq!(args[..2], ["token", "create"]);
    assert_backend_accepts(&args);
    assert!(header
        .iter()
        .any(|l| l.contains("docker compose --profile ingest run --rm ingest")));
    assert!(header
        .iter()
        .any(|l| l.contains("scripts/compose-secrets.sh && docker compose up --build")));
}

#[test]
fn compose_keeps_passwords_in_secrets() {
    let compose = compose();
    let raw = read("docker-compose.yaml");

    // The files of the secrets, which the script makes.
    let script = read("scripts/compose-secrets.sh");
    let secrets = compose["secrets"].as_object().unwrap();
    let mut names: Vec<&String> = secrets.keys().collect();
    names.sort();
    assert_eq!(names, ["database_url", "postgres_password"]);
    for (name, secret) in secrets {
        assert_eq!(secret["file"], format!("./secrets/{name}"));
        assert!(
            script.contains(&format!("| create {name}\n")),
            "the script does not create {name}"
        );
    }
    let mounted = |service: &str, secret: &str| {
        let list = strings(field(&compose, service, "/secrets"));
        assert!(list.iter().any(|s| s == secret), "{service} does not mount {secret}");
        format!("/run/secrets/{secret}")
    };

    // PostgreSQL reads its password from the secret, never from the file.
    let env = field(&compose, "postgres", "/environment");
    assert_eq!(env["POSTGRES_PASSWORD_FILE"], mounted("postgres", "postgres_password"));
    assert!(env.get("POSTGRES_PASSWORD").is_none());
    assert_eq!(env["POSTGRES_USER"], "revenue");

    // The others read the URL from theirs, and set no variable the binaries
    // do not read.
    let backend_help = text(&backend(&["--help"], &[]));
    let serve_help = text(&backend(&["serve", "--help"], &[]));
    let migration_source = read("migration/src/lib.rs");
    for service in IMAGE_SERVICES {
        let env = field(&compose, service, "/environment").as_object().unwrap();
        assert_eq!(env["DATABASE_URL_FILE"], mounted(service, "database_url"), "{service}");
        assert!(!env.contains_key("DATABASE_URL"), "{service}");
        for name in env.keys() {
            let read = if service == "migrate" {
                migration_source.contains(&format!("\"{name}\""))
            } else {
                backend_help.contains(&format!("`{name}`")) || serve_help.contains(&format!("[env: {name}="))
            };
            assert!(read, "{service}: the binary does not read {name}");
        }
    }

    // No literal password anywhere: no user:password@ in a URL, no
    // POSTGRES_PASSWORD variable.
    for (i, _) in raw.match_indices("://") {
        let authority = raw[i + 3..].split(['/', ' ', '"', '\n']).next().unwrap();
        assert!(!authority.contains('@'), "a URL with credentials: {authority}");
    }
    assert!(!raw.contains("POSTGRES_PASSWORD:"));

    // Published on the host's loopback only.
    for service in compose["services"].as_object().unwrap().keys() {
        if let Some(ports) = compose.pointer(&format!("/services/{service}/ports")) {
            for port in strings(ports) {
                assert!(port.starts_with("127.0.0.1:"), "{service} publishes {port}");
            }
        }
    }
}

#[test]
fn docker_compose_accepts_the_file() {
    let available = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        crate::helpers::skip("no Docker Compose here (`docker compose version` fails)");
        return;
    }
    let out = Command::new("docker")
        .args(["compose", "--file", "docker-compose.yaml", "config", "--quiet"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

// ---- scripts/compose-secrets.sh -----------------------------------------------

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs the script copied into `dir` (the checkout's own secrets are never
/// touched): its output.
fn run_secrets_script(dir: &Path) -> String {
    let out = Command::new("bash")
        .arg(dir.join("scripts/compose-secrets.sh"))
        .output()
        .unwrap();
    let output = text(&out);
    assert!(out.status.success(), "{output}");
    output
}

#[test]
fn secrets_script_is_idempotent_and_quiet() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    std::fs::copy(
        root().join("scripts/compose-secrets.sh"),
        dir.path().join("scripts/compose-secrets.sh"),
    )
    .unwrap();
    let secrets = dir.path().join("secrets");
    let password_file = secrets.join("postgres_password");
    let url_file = secrets.join("database_url");

    let first = run_secrets_script(dir.path());
    let password = std::fs::read_to_string(&password_file).unwrap();
    assert!(
        password.len() == 64 && password.bytes().all(|b| b.is_ascii_hexdigit()),
        "{password:?}"
    );
    assert!(!first.contains(&password), "the script printed the password: {first}");
    assert!(first.contains("created secrets/postgres_password"), "{first}");
    let url = std::fs::read_to_string(&url_file).unwrap();
    // The URL names the compose file's database, user and service.
    let compose = compose();
    let postgres = field(&compose, "postgres", "/environment");
    let parsed = url::Url::parse(url.trim()).unwrap();
    assert_eq!(parsed.scheme(), "postgres");
    assert_eq!(parsed.username(), postgres["POSTGRES_USER"]);
    assert_eq!(parsed.password(), Some(password.as_str()));
    assert_eq!(parsed.host_str(), Some("postgres"));
    assert!(compose.pointer("/services/postgres").is_some());
    assert_eq!(parsed.path(), format!("/{}", postgres["POSTGRES_DB"].as_str().unwrap()));
    // The folder is private; the URL readable by the image's uid (compose
    // mounts a file secret as it is on the host); the password by root only.
    let modes = || (mode(&secrets), mode(&password_file), mode(&url_file));
    assert_eq!(modes(), (0o700, 0o600, 0o644));

    // Again: nothing changes, nothing is said.
    let second = run_secrets_script(dir.path());
    assert_eq!(second, "");
    assert_eq!(std::fs::read_to_string(&password_file).unwrap(), password);
    assert_eq!(std::fs::read_to_string(&url_file).unwrap(), url);
    assert_eq!(modes(), (0o700, 0o600, 0o644));

    // A URL of one's own is kept, with a note that does not show the password.
    std::fs::write(&url_file, "postgres://revenue:other@db.internal/revenue\n").unwrap();
    let third = run_secrets_script(dir.path());
    assert!(third.contains("kept as it is") && !third.contains(&password), "{third}");
    assert_eq!(
        std::fs::read_to_string(&url_file).unwrap(),
        "postgres://revenue:other@db.internal/revenue\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&secrets).unwrap().collect();
    assert_eq!(leftovers.len(), 2, "temporary files left: {leftovers:?}");
}

// ---- the binary in the container's environment --------------------------------

/// A `backend serve` process, ended when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` over HTTP/1.0: the whole answer.
fn get(port: u16, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The server with the image's and the app service's environment (the
/// database and the dashboard in a temporary folder) answers the image's
/// health check, serves STATIC_DIR, and refuses open mode on a public address
/// exactly when ALLOW_ANONYMOUS is not set as the compose file sets it.
#[test]
fn serves_with_the_containers_environment() {
    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("database_url");
    let db = dir.path().join("revenue.db");
    std::fs::write(&url_file, format!("sqlite://{}?mode=rwc\n", db.display())).unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<title>container probe</title>").unwrap();
    let compose = compose();
    let allow = field(&compose, "app", "/environment/ALLOW_ANONYMOUS").as_str().unwrap();
    let env = |allow: &str| -> Vec<(&str, String)> {
        vec![
            ("DATABASE_URL_FILE", url_file.display().to_string()),
            ("STATIC_DIR", dist.display().to_string()),
            ("ALLOW_ANONYMOUS", allow.to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ]
    };
    let serve = |bind: &str, allow: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_backend"));
        command
            .args(["serve", "--bind", bind])
            .env_clear()
            .envs(env(allow))
            .current_dir(dir.path());
        command
    };

    // Open mode on a public address: allowed as compose sets it, refused
    // otherwise. TEST-NET-1 is not this machine's: the allowed start fails to
    // bind, so nothing listens beyond loopback.
    let allowed = text(&serve("192.0.2.1:0", allow).output().unwrap());
    assert!(allowed.contains("cannot listen on 192.0.2.1:0"), "{allowed}");
    let refused = text(&serve("192.0.2.1:0", "false").output().unwrap());
    assert!(refused.contains("--allow-anonymous"), "{refused}");

    // On loopback: the health check asks BIND, as in the image.
    let mut child = serve("127.0.0.1:0", allow)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
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
    let bind = format!("127.0.0.1:{port}");
    let probe = backend(&["healthcheck"], &[("BIND", bind.as_str())]);
    assert!(probe.status.success(), "{}", text(&probe));
    assert!(get(port, "/").contains("container probe"));
    drop(server);
    let probe = backend(&["healthcheck"], &[("BIND", bind.as_str())]);
    assert!(!probe.status.success(), "{}", text(&probe));
}
