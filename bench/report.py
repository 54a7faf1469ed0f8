#!/usr/bin/env python3
"""Summarise bench/out/results.tsv as Markdown: medians and ranges per measure."""
import collections
import statistics
import sys

rows = collections.defaultdict(list)
units = {}
with open(sys.argv[1]) as f:
    header = f.readline().rstrip("\n").split("\t")
    assert header == ["kind", "name", "size", "run", "value", "unit"], header
    for line in f:
        kind, name, size, run, value, unit = line.rstrip("\n").split("\t")
        rows[(kind, name, int(size))].append(float(value))
        units[(kind, name, int(size))] = unit
if not rows:
    sys.exit("no results")


def fmt(v):
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"


def med(key):
    return statistics.median(rows[key]) if key in rows else None


print("| measure | size | median | range | runs |")
print("|---|---:|---:|---:|---:|")
for key in sorted(rows):
    kind, name, size = key
    vals = rows[key]
    print(f"| {kind}: {name} | {size:,} | {fmt(statistics.median(vals))} {units[key]} | "
          f"{fmt(min(vals))}–{fmt(max(vals))} | {len(vals)} |")

print()
print("| derived | size | value |")
print("|---|---:|---:|")
for size in sorted({k[2] for k in rows}):
    etl, copy = med(("etl", "postgres", size)), med(("copy", "postgres", size))
    if etl and copy:
        print(f"| ETL PostgreSQL / COPY limit | {size:,} | {etl / copy:.2f}× |")
        print(f"| ETL PostgreSQL rows/s | {size:,} | {size / etl:,.0f} |")
    lite = med(("etl", "sqlite", size))
    if lite:
        print(f"| ETL SQLite rows/s | {size:,} | {size / lite:,.0f} |")
    lite_limit = med(("copy", "sqlite", size))
    if lite and lite_limit:
        print(f"| ETL SQLite / SQLite write limit | {size:,} | {lite / lite_limit:.2f}× |")
    for engine in ("postgres", "sqlite"):
        append, replace = med(("append", engine, size)), med(("etl", engine, size))
        if append and replace:
            print(f"| append 10,000 / replace, {engine} | {size:,} | {100 * append / replace:.1f}% |")
    live, live_p99 = med(("api", "/health/live c=32", size)), med(("api_p99", "/health/live c=32", size))
    if live and live_p99:
        for kind, name, s in sorted(rows):
            if kind == "api" and s == size and name.endswith(" c=32") and not name.startswith("/health/"):
                rps, p99 = med(("api", name, size)), med(("api_p99", name, size))
                print(f"| {name[:-5]} / /health/live at 32 connections: req/s, p99 | {size:,} | "
                      f"{rps / live:.2f}, {p99 / live_p99:.2f}× |")
