#!/usr/bin/env python3
"""Snapshot of every endpoint's answer, to compare two builds of the backend.

Loads an export (the real one beside the checkout when present, else input/)
with a given `backend` binary into a fresh database (SQLite file, or a new
PostgreSQL database), serves it on 127.0.0.1, and writes the body of each
request below into OUT/<engine>/ (one file per request). Values that differ
between two runs of the same build (run times, durations, uptime) are masked,
so that two snapshots of equal behaviour are byte-identical:

    scripts/api_snapshot.py --binary old/backend --out /tmp/before
    scripts/api_snapshot.py --binary target/release/backend --out /tmp/after
    diff -r /tmp/before /tmp/after && echo identical

Standard library only. PostgreSQL: TEST_DATABASE_URL (an admin URL), default
postgres://postgres@127.0.0.1:5432/postgres; `--engines sqlite` skips it.
"""

import argparse
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Every endpoint, with the parameters analysts use (JSON and CSV).
REQUESTS = [
    "/reports/meta",
    "/reports/monthly-transactions",
    "/reports/monthly-transactions?months=3",
    "/reports/monthly-transactions?currency=eur",
    "/reports/monthly-transactions?format=csv",
    "/reports/monthly-transactions?months=24&as_of=2024-06",
    "/reports/revenue-growth",
    "/reports/revenue-growth?months=6&currency=usd",
    "/reports/revenue-growth?format=csv",
    "/reports/top-products",
    "/reports/top-products?limit=50",
    "/reports/top-products?limit=5&from=2024-03&to=2024-05",
    "/reports/top-products?currency=eur&format=csv",
    "/reports/top-users",
    "/reports/top-users?limit=100",
    "/reports/top-users?currency=eur",
    "/reports/top-users?limit=20&format=csv",
    "/reports/no-such-report",
    "/reports/top-users?limit=0",
    "/reports/top-users?currency=xyz",
    "/reports/saas/mrr?currency=usd",
    "/reports/saas/mrr?currency=usd&grace_days=0&format=csv",
    "/reports/saas/cohorts?currency=usd",
    "/reports/saas/movements?currency=usd&month=2024-09&kind=churn",
    "/reports/saas/movements?currency=usd&month=2024-09&kind=new&limit=5&format=csv",
    "/reports/saas/mrr?currency=usd&grace_days=91",
    "/reports/monthly-transactions?from=2024-02&to=2024-07",
    "/reports/revenue-growth?from=2024-03&format=csv",
    "/reports/revenue-growth?from=2024-05&months=3",
    "/reports/month/2024-05",
    "/reports/month/2024-05?currency=eur&limit=3&format=csv",
    "/reports/month/2031-01",
    "/customers?q=a&limit=5",
    "/customers?q=cus_0",
    "/customers/cus_000000000000",
    "/customers/cus_000000000000?format=csv",
    "/customers/nobody",
    "/quality",
    "/quality/history",
    "/quality/history?format=csv",
    "/ingests",
    "/ingests?limit=1",
    "/ingests/1",
    "/ingests/1/rejections",
    "/ingests/1/rejections?format=csv",
    "/ingests/1/rejections?file=transactions&limit=5",
    "/ingests/99",
    "/session",
    "/health/live",
    "/health/ready",
    "/openapi.json",
]

# Keys whose values change from one run to the next of the same build.
VOLATILE = re.compile(
    r"^(started_at|finished_at|duration_ms|elapsed_ms|uptime_s|generated_at|"
    r"last_success_at|as_of_time|age_s|checked_at|startup_ms)$"
)
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def mask(value):
    if isinstance(value, dict):
        return {k: ("<masked>" if VOLATILE.match(k) else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as res:
            return res.status, res.headers.get("content-type", ""), res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def snapshot(binary, engine, export, out):
    env = dict(os.environ, RUST_LOG="warn", REQUEST_LOG="off")
    admin = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    dbname = None
    with tempfile.TemporaryDirectory() as tmp:
        if engine == "sqlite":
            env["DATABASE_URL"] = f"sqlite://{tmp}/snapshot.db?mode=rwc"
        else:
            dbname = "api_snapshot_" + secrets.token_hex(6)
            subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {dbname}"], check=True)
            env["DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + dbname
        env["PENDING_RUNS_DIR"] = f"{tmp}/pending"
        try:
            subprocess.run([binary, "ingest", "--input", str(export)], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            port = free_port()
            server = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}",
                                       "--static-dir", "/nonexistent"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                base = f"http://127.0.0.1:{port}"
                for _ in range(300):
                    try:
                        if get(base + "/health/ready")[0] == 200:
                            break
                    except OSError:
                        pass
                    time.sleep(0.1)
                else:
                    sys.exit(f"{engine}: the server did not become ready")
                folder = out / engine
                folder.mkdir(parents=True, exist_ok=True)
                for path in REQUESTS:
                    status, ctype, body = get(base + path)
                    if "json" in ctype:
                        text = json.dumps(mask(json.loads(body)), indent=1, sort_keys=False)
                    else:
                        text = TIMESTAMP.sub("<time>", body.decode("utf-8", "replace"))
                    name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root"
                    (folder / f"{name}.txt").write_text(f"{status} {ctype}\n{text}\n")
            finally:
                server.terminate()
                server.wait(timeout=30)
        finally:
            if dbname:
                subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the backend binary to snapshot")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--input", type=Path, help="export folder (default: ../shared/seed-input, else input/)")
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    export = args.input
    if export is None:
        seed = ROOT.parent / "shared" / "seed-input"
        export = seed if (seed / "transactions.csv").is_file() else ROOT / "input"
    for engine in args.engines.split(","):
        snapshot(str(Path(args.binary).resolve()), engine, export, args.out)
        print(f"{engine}: {len(REQUESTS)} answers in {args.out / engine}", file=sys.stderr)


if __name__ == "__main__":
    main()
