#!/usr/bin/env python3
"""Compare the saas crate's figures (examples/saas_csv.rs) with the
independent reference (scripts/saas_reference.py), field by field.

Usage:
    cargo run -p saas --release --example saas_csv -- DIR --customer-mrr > rust.json
    python3 scripts/saas_reference.py DIR --customer-mrr > ref.json
    python3 backend/saas/examples/compare_reference.py rust.json ref.json

Compares, per currency: every field of every month of the MRR report (money
to the cent, rates, counts, splits, billed), the cohort table, the customers
behind each movement, and every customer's MRR at every close. Prints each
difference; exit status 1 when there is one.
"""

import json
import sys


def diff(path, a, b, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: missing in rust (ref {b[k]!r})")
            elif k not in b:
                out.append(f"{path}.{k}: missing in ref (rust {a[k]!r})")
            else:
                diff(f"{path}.{k}", a[k], b[k], out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items in rust, {len(b)} in ref")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(f"{path}[{i}]", x, y, out)
    elif a != b:
        out.append(f"{path}: rust {a!r} ref {b!r}")


def main():
    rust = json.load(open(sys.argv[1]))
    ref = json.load(open(sys.argv[2]))
    out = []
    diff("window.closed_months", rust["window"]["closed_months"], ref["window"]["closed_months"], out)
    checked = 0
    for cur, r in ref["currencies"].items():
        ours = rust["currencies"].get(cur)
        if ours is None:
            out.append(f"{cur}: missing in rust")
            continue
        diff(f"{cur}.months", ours["mrr"]["months"], r["months"], out)
        diff(f"{cur}.cohorts", ours["cohorts"]["cohorts"], r["cohorts"], out)
        for month, kinds in r["movement_customers_detail"].items():
            for kind, rows in kinds.items():
                ids = sorted(x["customer_id"] for x in rows)
                diff(f"{cur}.movements.{month}.{kind}", ours["movements"][month][kind], ids, out)
        if "customer_mrr" in r and "customer_mrr" in ours:
            diff(f"{cur}.customer_mrr", ours["customer_mrr"], r["customer_mrr"], out)
        checked += len(r["months"])
    for line in out:
        print("DIFF", line)
    print(f"{checked} currency-months compared, {len(out)} differences")
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
