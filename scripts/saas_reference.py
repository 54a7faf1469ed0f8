#!/usr/bin/env python3
"""Independent reference implementation of shared/specs/saas-metrics.md.

Written from the specification text only (no look at the Rust code), so that
the service's figures can be compared with these figure by figure.  Python 3.11,
standard library only.  Money is integer minor units throughout; every rounding
is the spec's half-away-from-zero on exact integer fractions.

Usage:
    python3 scripts/saas_reference.py INPUT_DIR [--grace-days 7]
        [--annual-threshold 3000.00] [--currency usd] [--customer-mrr]
        [--invoices] [--keep-going] > figures.json

INPUT_DIR holds products.csv and transactions.csv (users.csv optional) in the
export's format.  Exit status: 0 ok, 1 unreadable input, 2 bad arguments,
3 a §13 invariant was violated (named on stderr; no JSON on stdout unless
--keep-going) - the script's stand-in for the service's HTTP 500.

Readings of the places where the spec is ambiguous or silent
------------------------------------------------------------
R1  Reporting window (§4) is ONE window for the whole load, from the earliest
    to the latest loaded transaction of any currency, not one per currency.
    K1 supports this: eur cus_I is "20 x4" (Jan..Apr closes), while an eur-only
    window (last eur invoice 2024-04-12) would close only Jan..Mar.  --currency
    only restricts the output; the window still comes from all transactions.
    "Loaded transactions" include zero, negative and subscription-less rows.
R2  Input rules (§2, "the ETL's rules", taken from the README, not from code):
    dates `M/D/YY H:MM` (YY -> 20YY), `M/D/YYYY H:MM[:SS]`, ISO 8601 with `T`
    or space, optional seconds and fraction (microseconds), `Z`/offset (no
    offset = UTC); dates before 2000-01-01 or more than 1 day after "now" are
    rejected.  Totals are plain decimals (`-50`, `531.93`); more decimals than
    the currency's minor unit are rejected unless they are trailing zeros.
    Empty transaction or customer id, unknown currency, ids > 255 bytes:
    rejected.  A row is an "exact duplicate" when its PARSED values (id,
    customer, subscription, instant, amount in minor units, lower-cased
    currency) equal an earlier row's; raw text may differ (`USD` vs `usd`,
    `499` vs `499.00`).  When one transaction id carries two or more distinct
    parsed contents, every row of that id is rejected (exact copies too).
    Rows rejected for another reason take no part in duplicate detection.
R3  products.csv rows are de-duplicated on (subscription id, plan), last row
    wins (README); the items of a subscription are the remaining rows.
    `Interval` is compared case-insensitively after trimming.
R4  §5 rule 4 hints: "N month(s)" is the regex `\\b(\\d+)[\\s-]*months?\\b`
    (N >= 1; "36 Months", "3-month"), "semi-annual" matches
    `semi[- ]?annual` (so "Semi-Annually"),
    "quarterly" is a substring; all case-insensitive; only `month` items are
    looked at (a `year` item already decided rule 2).
R5  §5 rule 5 compares the invoice's Total with the threshold as exact
    decimals in the major unit (3000.00 usd = 300000 cents; 3000 jpy).
    "always 12 months" of the §5 table = threshold 0; "always 1 month" = a
    threshold above every total.
R6  An invoice whose MRR rounds to 0 (e.g. 0.05/yr) still "covers" a close and
    still supersedes older invoices, with MRR 0; its customer is then not
    active, and the §13 invariant "every recurring invoice's customer is active
    at the close of its month" fires.  The spec calls a violation a bug; here
    it is reported like any other violation (never seen on the real export).
R7  Left-censoring (§4): f is the customer's first recurring invoice in the
    currency over ALL its subscriptions, k_f its interval (§5).  Reported as
    MRR (the customer's q in that month) and as a customer count.
R8  `movement_customers` has new, expansion, contraction, churn, reactivation
    and new_left_censored (no count for net_new).  `mrr_by_interval_source`
    always lists the six sources (zeros included); `mrr_by_interval_months`
    lists the intervals with non-zero MRR at that close, keys as strings.
R9  Retention percentages of §11 cohorts use the §9 rounding (two decimals,
    half away from zero, decimal strings).
R10 §10 `invoices` counts every transaction of the month (recurring + one-off
    + zero + negative); `total` is the plain sum of every Total of the month
    and is checked against recurring + one_off + refunds.  A zero-total row
    with no subscription id counts as a zero invoice, a negative row without
    subscription id as a refund.  `billed` covers closed months only.
R11 §9 trailing n-month rates need m-n to be a reported month (the opening
    month counts): with a 9-month window nrr_3m exists from the 4th month.
R12 Customers of a currency that is present in the load but has no activity in
    early months get MRR 0, customers 0, ARPA null and null rates there; its
    movements are zeros (not null) after the opening month.  Such a currency
    has no `opening: true` cohort: its first cohort is the month its first
    customer is active (eur on the real export: 2024-03, opening false).
R13 Customer names for the drill-down come from users.csv (last non-empty name
    in file order); no e-mail is ever output.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

UTC = dt.timezone.utc

# ISO 4217 minor units.  Two decimals unless listed; funds/metals/test codes
# are not currencies of payment and are rejected.
ZERO_DECIMALS = {
    "bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "pyg", "rwf",
    "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}
THREE_DECIMALS = {"bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"}
TWO_DECIMALS = set("""
aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob brl bsd btn
bwp byn bzd cad cdf chf cny cop crc cuc cup cve czk dkk dop dzd egp ern etb eur
fjd fkp gbp gel ghs gip gmd gtq gyd hkd hnl hrk htg huf idr ils inr irr jmd kes
kgs khr kpw kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mru mur mvr
mwk mxn myr mzn nad ngn nio nok npr nzd pab pen pgk php pkr pln qar ron rsd rub
sar sbd scr sdg sek sgd shp sle sll sos srd ssp stn svc syp szl thb tjs tmt top
try ttd twd tzs uah usd uyu uzs ves ved wst xcd xcg yer zar zmw zwg zwl
""".split())


def minor_exponent(code: str) -> int | None:
    if code in ZERO_DECIMALS:
        return 0
    if code in THREE_DECIMALS:
        return 3
    if code in TWO_DECIMALS:
        return 2
    return None


SOURCES = [
    "observed_next", "catalogue_year", "observed_previous",
    "catalogue_month", "assumed_annual", "assumed_monthly",
]
KINDS = ["new", "expansion", "contraction", "churn", "reactivation"]
BANDS = [(25, 35, 1), (80, 100, 3), (170, 200, 6), (350, 380, 12)]


# --------------------------------------------------------------------------
# Exact arithmetic helpers
# --------------------------------------------------------------------------

def div_half_away(num: int, den: int) -> int:
    """num/den rounded to an integer, half away from zero (den != 0)."""
    if den < 0:
        num, den = -num, -den
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def fmt_scaled(value: int, decimals: int) -> str:
    """Integer in units of 10^-decimals -> decimal string."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    if decimals == 0:
        return f"{sign}{v}"
    s = 10 ** decimals
    return f"{sign}{v // s}.{v % s:0{decimals}d}"


def rate_pct(num: int, den: int) -> str | None:
    """100 * num / den, two decimals, half away from zero; None if den == 0."""
    if den == 0:
        return None
    return fmt_scaled(div_half_away(100 * 100 * num, den), 2)


def ratio(num: int, den: int) -> str | None:
    """num / den, two decimals (not a percentage); None if den == 0."""
    if den == 0:
        return None
    return fmt_scaled(div_half_away(100 * num, den), 2)


# --------------------------------------------------------------------------
# Calendar (§3)
# --------------------------------------------------------------------------

def days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.date(year, month, 1)).days


def add_months(t: dt.datetime, k: int) -> dt.datetime:
    idx = t.year * 12 + (t.month - 1) + k
    y, m = divmod(idx, 12)
    m += 1
    return t.replace(year=y, month=m, day=min(t.day, days_in_month(y, m)))


def gap_days(a: dt.datetime, b: dt.datetime) -> int:
    return (b - a) // dt.timedelta(days=1)  # floored whole days


def month_key(t: dt.datetime) -> tuple[int, int]:
    return (t.year, t.month)


def month_str(ym: tuple[int, int]) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def close_of(ym: tuple[int, int]) -> dt.datetime:
    """C(m): 00:00 UTC on the first day of month m+1."""
    y, m = ym
    return dt.datetime(y + (m == 12), 1 if m == 12 else m + 1, 1, tzinfo=UTC)


def next_month(ym: tuple[int, int]) -> tuple[int, int]:
    y, m = ym
    return (y + 1, 1) if m == 12 else (y, m + 1)


# --------------------------------------------------------------------------
# Input (§2, ETL rules)
# --------------------------------------------------------------------------

RE_MDY = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
RE_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$")
RE_AMOUNT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_date(text: str) -> dt.datetime | None:
    s = text.strip()
    m = RE_MDY.match(s)
    try:
        if m:
            mo, d, y, hh, mi, ss = m.groups()
            year = 2000 + int(y) if len(y) == 2 else int(y)
            return dt.datetime(year, int(mo), int(d), int(hh), int(mi),
                               int(ss or 0), tzinfo=UTC)
        m = RE_ISO.match(s)
        if m:
            y, mo, d, hh, mi, ss, frac, tz = m.groups()
            micro = int((frac or "0")[:6].ljust(6, "0"))
            t = dt.datetime(int(y), int(mo), int(d), int(hh), int(mi),
                            int(ss or 0), micro, tzinfo=UTC)
            if tz and tz not in ("Z", "z"):
                sign = 1 if tz[0] == "+" else -1
                digits = tz[1:].replace(":", "")
                off = dt.timedelta(hours=int(digits[:2]),
                                   minutes=int(digits[2:4] or 0))
                t = t - sign * off
            return t
    except ValueError:
        return None
    return None


def parse_amount(text: str, exponent: int) -> tuple[int | None, str | None]:
    s = text.strip()
    if not RE_AMOUNT.match(s):
        return None, "invalid_amount"
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None, "invalid_amount"
    scaled = d.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        return None, "too_many_decimals"
    return int(scaled), None


def norm_header(h: str) -> str:
    return re.sub(r"[^0-9a-z]", "", h.lower())


def read_table(path: Path, required: dict[str, str]):
    """Read an export file.  `required` maps logical name -> normalised header.

    Returns (rows, rejects) where rows are (line_no, {name: value}).
    """
    data = path.read_bytes()
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        raise SystemExit(f"{path}: UTF-16 export, convert it to UTF-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = re.split(rb"\r\n|\n|\r", data)
    if not lines or not lines[0].strip():
        raise SystemExit(f"{path}: no header line")
    header_text = lines[0].decode("utf-8", errors="replace")
    chosen = None
    for delim in ("\t", ",", ";"):
        try:
            cells = next(csv.reader([header_text], delimiter=delim))
        except csv.Error:
            continue
        idx = {norm_header(c): i for i, c in reversed(list(enumerate(cells)))}
        if all(v in idx for v in required.values()):
            chosen = (delim, {k: idx[v] for k, v in required.items()})
            break
    if chosen is None:
        raise SystemExit(f"{path}: header lacks one of {list(required)}")
    delim, cols = chosen
    rows, rejects = [], defaultdict(int)
    for n, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        if b"\x00" in raw:
            rejects["nul_byte"] += 1
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            rejects["invalid_utf8"] += 1
            continue
        try:
            cells = next(csv.reader([text], delimiter=delim, strict=True))
        except csv.Error:
            rejects["unclosed_quote"] += 1
            continue
        if len(cells) <= max(cols.values()):
            rejects["missing_field"] += 1
            continue
        rows.append((n, {k: cells[i] for k, i in cols.items()}))
    return rows, rejects


@dataclass(frozen=True)
class Tx:
    t: dt.datetime
    txid: str
    customer: str
    sub: str
    minor: int          # amount in the currency's minor unit
    currency: str

    @property
    def order(self):
        return (self.t, self.txid.encode("utf-8"))


@dataclass
class Loaded:
    txs: list[Tx]
    products: dict[str, list[tuple[str, str]]]   # sub id -> [(interval, product)]
    names: dict[str, str]
    stats: dict = field(default_factory=dict)


def load_export(folder: Path, earliest: dt.datetime | None = None,
                now: dt.datetime | None = None,
                max_days_ahead: int = 1) -> Loaded:
    earliest = earliest or dt.datetime(2000, 1, 1, tzinfo=UTC)
    now = now or dt.datetime.now(UTC)
    latest_ok = now + dt.timedelta(days=max_days_ahead)
    rows, rejects = read_table(folder / "transactions.csv", {
        "date": "dateutc", "txid": "transactionid", "customer": "customerid",
        "sub": "subscriptionid", "total": "total", "currency": "currency"})
    parsed: list[Tx] = []
    for _, r in rows:
        txid, cust = r["txid"].strip(), r["customer"].strip()
        sub = r["sub"].strip()
        if not txid:
            rejects["empty_transaction_id"] += 1
            continue
        if not cust:
            rejects["empty_customer_id"] += 1
            continue
        if max(len(txid.encode()), len(cust.encode()), len(sub.encode())) > 255:
            rejects["id_too_long"] += 1
            continue
        t = parse_date(r["date"])
        if t is None:
            rejects["invalid_date"] += 1
            continue
        if t < earliest or t > latest_ok:
            rejects["implausible_date"] += 1
            continue
        cur = r["currency"].strip().lower()
        exp = minor_exponent(cur)
        if exp is None:
            rejects["unknown_currency"] += 1
            continue
        minor, err = parse_amount(r["total"], exp)
        if err:
            rejects[err] += 1
            continue
        parsed.append(Tx(t, txid, cust, sub, minor, cur))
    by_id: dict[str, list[Tx]] = defaultdict(list)
    for tx in parsed:
        by_id[tx.txid].append(tx)
    txs, duplicates = [], 0
    for txid, group in by_id.items():
        distinct = set(group)
        if len(distinct) > 1:
            rejects["conflicting_duplicate"] += len(group)
            continue
        duplicates += len(group) - 1
        txs.append(group[0])
    txs.sort(key=lambda x: x.order)

    products: dict[str, list[tuple[str, str]]] = {}
    prows, prejects = read_table(folder / "products.csv", {
        "sub": "subscriptionid", "plan": "plan", "product": "product",
        "interval": "interval"})
    items: dict[tuple[str, str], tuple[str, str]] = {}
    for _, r in prows:
        sub = r["sub"].strip()
        if not sub:
            prejects["empty_subscription_id"] += 1
            continue
        key = (sub, r["plan"].strip())
        items.pop(key, None)  # last row wins (and takes the last place)
        items[key] = (r["interval"].strip().lower(), r["product"].strip())
    for (sub, _plan), item in items.items():
        products.setdefault(sub, []).append(item)

    names: dict[str, str] = {}
    upath = folder / "users.csv"
    if upath.exists() and upath.read_bytes().strip():
        urows, _ = read_table(upath, {"customer": "customerid",
                                      "name": "customername"})
        for _, r in urows:
            if r["customer"].strip() and r["name"].strip():
                names[r["customer"].strip()] = r["name"].strip()
    stats = {
        "transaction_rows": len(rows) + sum(
            v for k, v in rejects.items()
            if k in ("nul_byte", "invalid_utf8", "unclosed_quote",
                     "missing_field")),
        "loaded": len(txs),
        "duplicates": duplicates,
        "rejected": dict(sorted(rejects.items())),
        "product_items": len(items),
        "product_subscriptions": len(products),
    }
    return Loaded(txs, products, names, stats)


# --------------------------------------------------------------------------
# Interval (§5)
# --------------------------------------------------------------------------

RE_N_MONTHS = re.compile(r"\b(\d+)[\s-]*months?\b", re.I)
RE_SEMI = re.compile(r"semi[- ]?annual", re.I)


def band(days: int) -> int | None:
    for lo, hi, k in BANDS:
        if lo <= days <= hi:
            return k
    return None


def catalogue_month_hint(products: list[str]) -> int:
    best = 1
    for name in products:
        hint = 1
        m = RE_N_MONTHS.search(name)
        if m and int(m.group(1)) >= 1:
            hint = int(m.group(1))
        elif RE_SEMI.search(name):
            hint = 6
        elif "quarterly" in name.lower():
            hint = 3
        best = max(best, hint)
    return best


@dataclass
class Invoice:
    tx: Tx
    k: int
    source: str
    mrr: int
    end: dt.datetime


def classify(invoices: list[Tx], catalogue: list[tuple[str, str]] | None,
             threshold_minor_check) -> list[Invoice]:
    """Intervals of one subscription's recurring invoices, already ordered."""
    year_items = [p for i, p in (catalogue or []) if i == "year"]
    month_items = [p for i, p in (catalogue or []) if i == "month"]
    out = []
    for n, tx in enumerate(invoices):
        k = source = None
        if n + 1 < len(invoices):
            k = band(gap_days(tx.t, invoices[n + 1].t))
            source = "observed_next" if k else None
        if k is None and year_items:
            k, source = 12, "catalogue_year"
        if k is None and n > 0:
            k = band(gap_days(invoices[n - 1].t, tx.t))
            source = "observed_previous" if k else None
        if k is None and month_items:
            k, source = catalogue_month_hint(month_items), "catalogue_month"
        if k is None:
            if threshold_minor_check(tx.minor):
                k, source = 12, "assumed_annual"
            else:
                k, source = 1, "assumed_monthly"
        out.append(Invoice(tx, k, source, div_half_away(tx.minor, k),
                           add_months(tx.t, k)))
    return out


# --------------------------------------------------------------------------
# The computation (§4-§11) for one currency
# --------------------------------------------------------------------------

def compute_currency(cur: str, txs: list[Tx], loaded: Loaded,
                     months: list[tuple[int, int]], grace_days: int,
                     threshold: Decimal, violations: list[str],
                     want_customer_mrr=False, want_invoices=False) -> dict:
    exp = minor_exponent(cur)
    money = lambda v: fmt_scaled(v, exp)  # noqa: E731
    threshold_minor = threshold.scaleb(exp)
    is_annual_amount = lambda minor: minor >= threshold_minor  # noqa: E731
    grace = dt.timedelta(days=grace_days)
    closes = [close_of(m) for m in months]
    nm = len(months)
    month_index = {m: i for i, m in enumerate(months)}

    def bad(month, text):
        violations.append(f"{cur} {month}: {text}")

    # Subscriptions and their recurring invoices.
    subs: dict[tuple[str, str], list[Tx]] = defaultdict(list)
    for tx in txs:
        if tx.sub and tx.minor > 0:
            subs[(tx.customer, tx.sub)].append(tx)
    invoices_by_sub: dict[tuple[str, str], list[Invoice]] = {}
    for key, lst in subs.items():
        lst.sort(key=lambda x: x.order)
        invoices_by_sub[key] = classify(lst, loaded.products.get(key[1]),
                                        is_annual_amount)

    # MRR per customer per close, with splits.
    cust_mrr: dict[str, list[int]] = defaultdict(lambda: [0] * nm)
    by_interval = [defaultdict(int) for _ in range(nm)]
    by_source = [{s: 0 for s in SOURCES} for _ in range(nm)]
    for (cust, _sub), invs in invoices_by_sub.items():
        row = cust_mrr[cust]
        for i, c in enumerate(closes):
            for inv in reversed(invs):  # latest (t, id) first
                if inv.tx.t < c <= inv.end + grace:
                    row[i] += inv.mrr
                    by_interval[i][inv.k] += inv.mrr
                    by_source[i][inv.source] += inv.mrr
                    break
    # First recurring invoice per customer (for left-censoring, §4).
    first_inv: dict[str, Invoice] = {}
    for invs in invoices_by_sub.values():
        inv = invs[0]
        cur_first = first_inv.get(inv.tx.customer)
        if cur_first is None or inv.tx.order < cur_first.tx.order:
            first_inv[inv.tx.customer] = inv
    w0 = dt.datetime(months[0][0], months[0][1], 1, tzinfo=UTC) if nm else None

    customers_sorted = sorted(cust_mrr)
    mrr = [sum(cust_mrr[c][i] for c in customers_sorted) for i in range(nm)]
    active = [{c for c in customers_sorted if cust_mrr[c][i] > 0}
              for i in range(nm)]

    # Billed (§10).
    billed = [dict(recurring=[0, 0], one_off=[0, 0], zero=0, refunds=[0, 0],
                   total=0, invoices=0) for _ in range(nm)]
    for tx in txs:
        i = month_index.get(month_key(tx.t))
        if i is None:
            continue
        b = billed[i]
        b["total"] += tx.minor
        b["invoices"] += 1
        if tx.minor > 0 and tx.sub:
            b["recurring"][0] += tx.minor
            b["recurring"][1] += 1
        elif tx.minor > 0:
            b["one_off"][0] += tx.minor
            b["one_off"][1] += 1
        elif tx.minor == 0:
            b["zero"] += 1
        else:
            b["refunds"][0] += tx.minor
            b["refunds"][1] += 1

    # Invariant: every recurring invoice's customer is active at its close.
    for invs in invoices_by_sub.values():
        for inv in invs:
            i = month_index.get(month_key(inv.tx.t))
            if i is not None and inv.tx.customer not in active[i]:
                bad(month_str(months[i]),
                    f"customer {inv.tx.customer} of recurring invoice "
                    f"{inv.tx.txid} is not active at the month's close")

    ever_active_before: set[str] = set()
    out_months, details = [], {}
    for i, ym in enumerate(months):
        ms = month_str(ym)
        ocu = i + 1
        row = {
            "month": ms,
            "warm_up": ocu < 3,
            "opening_complete_up_to_months": ocu,
            "mrr": money(mrr[i]),
            "arr": money(12 * mrr[i]),
            "customers": len(active[i]),
            "arpa": money(div_half_away(mrr[i], len(active[i])))
            if active[i] else None,
        }
        mv = {k: 0 for k in KINDS}
        mc = {k: 0 for k in KINDS}
        lc_mrr = lc_n = 0
        lists = {k: [] for k in KINDS}
        if i > 0:
            for c in customers_sorted:
                p, q = cust_mrr[c][i - 1], cust_mrr[c][i]
                kind = amount = None
                censored = False
                if p == 0 and q > 0:
                    if c in ever_active_before:
                        kind, amount = "reactivation", q
                    else:
                        kind, amount = "new", q
                        f = first_inv[c]
                        censored = f.tx.t < add_months(w0, f.k)
                        if censored:
                            lc_mrr += q
                            lc_n += 1
                elif p > 0 and q > p:
                    kind, amount = "expansion", q - p
                elif p > 0 and 0 < q < p:
                    kind, amount = "contraction", p - q
                elif p > 0 and q == 0:
                    kind, amount = "churn", p
                if kind:
                    mv[kind] += amount
                    mc[kind] += 1
                    lists[kind].append({
                        "customer_id": c, "name": loaded.names.get(c),
                        "previous_mrr": money(p), "current_mrr": money(q),
                        **({"left_censored": censored}
                           if kind == "new" else {}),
                    })
            prev = mrr[i - 1]
            net_new = mrr[i] - prev
            # §13 invariants on movements.
            if mrr[i] != prev + mv["new"] + mv["expansion"] + \
                    mv["reactivation"] - mv["contraction"] - mv["churn"]:
                bad(ms, "MRR movement identity does not hold")
            if len(active[i]) != len(active[i - 1]) + mc["new"] + \
                    mc["reactivation"] - mc["churn"]:
                bad(ms, "customer movement identity does not hold")
            if any(v < 0 for v in mv.values()):
                bad(ms, "a movement is negative")
            if mv["churn"] + mv["contraction"] > prev:
                bad(ms, "churn + contraction exceed the previous MRR")
            base = active[i - 1]
            nrr_num = sum(cust_mrr[c][i] for c in base)
            grr_num = sum(min(cust_mrr[c][i], cust_mrr[c][i - 1]) for c in base)
            if nrr_num != prev + mv["expansion"] - mv["contraction"] - mv["churn"]:
                bad(ms, "NRR from movements differs from NRR from customers")
            if grr_num != prev - mv["contraction"] - mv["churn"]:
                bad(ms, "GRR from movements differs from GRR from customers")
            row["movements"] = {**{k: money(v) for k, v in mv.items()},
                                "net_new": money(net_new),
                                "new_left_censored": money(lc_mrr)}
            row["movement_customers"] = {**mc, "new_left_censored": lc_n}
            row["logo_churn_rate_pct"] = rate_pct(mc["churn"], len(base))
            row["gross_mrr_churn_rate_pct"] = rate_pct(
                mv["churn"] + mv["contraction"], prev)
            row["net_mrr_churn_rate_pct"] = rate_pct(
                mv["churn"] + mv["contraction"] - mv["expansion"]
                - mv["reactivation"], prev)
            row["nrr_pct"] = rate_pct(
                prev + mv["expansion"] - mv["contraction"] - mv["churn"], prev)
            row["grr_pct"] = rate_pct(
                prev - mv["contraction"] - mv["churn"], prev)
        else:
            row["movements"] = None
            row["movement_customers"] = None
            for key in ("logo_churn_rate_pct", "gross_mrr_churn_rate_pct",
                        "net_mrr_churn_rate_pct", "nrr_pct", "grr_pct"):
                row[key] = None
        for n in (3, 6, 12):
            if i - n >= 0:
                base_n = active[i - n]
                den = sum(cust_mrr[c][i - n] for c in base_n)
                row[f"nrr_{n}m_pct"] = rate_pct(
                    sum(cust_mrr[c][i] for c in base_n), den)
                row[f"grr_{n}m_pct"] = rate_pct(
                    sum(min(cust_mrr[c][i], cust_mrr[c][i - n])
                        for c in base_n), den)
            else:
                row[f"nrr_{n}m_pct"] = row[f"grr_{n}m_pct"] = None
        if i > 0:
            row["quick_ratio"] = ratio(
                mv["new"] + mv["expansion"] + mv["reactivation"],
                mv["churn"] + mv["contraction"])
            row["mrr_growth_pct"] = rate_pct(mrr[i] - mrr[i - 1], mrr[i - 1])
        else:
            row["quick_ratio"] = row["mrr_growth_pct"] = None
        if sum(by_interval[i].values()) != mrr[i]:
            bad(ms, "MRR by interval does not sum to MRR")
        if sum(by_source[i].values()) != mrr[i]:
            bad(ms, "MRR by interval source does not sum to MRR")
        row["mrr_by_interval_months"] = {
            str(k): money(v) for k, v in sorted(by_interval[i].items()) if v}
        row["mrr_by_interval_source"] = {
            s: money(by_source[i][s]) for s in SOURCES}
        b = billed[i]
        if b["recurring"][0] + b["one_off"][0] + b["refunds"][0] != b["total"]:
            bad(ms, "billed: recurring + one_off + refunds != total")
        if b["recurring"][1] + b["one_off"][1] + b["zero"] + \
                b["refunds"][1] != b["invoices"]:
            bad(ms, "billed: invoice counts do not add up")
        row["billed"] = {
            "recurring": {"amount": money(b["recurring"][0]),
                          "count": b["recurring"][1]},
            "one_off": {"amount": money(b["one_off"][0]),
                        "count": b["one_off"][1]},
            "zero_invoices": {"count": b["zero"]},
            "refunds": {"amount": money(b["refunds"][0]),
                        "count": b["refunds"][1]},
            "total": money(b["total"]),
            "invoices": b["invoices"],
        }
        if i > 0:
            details[ms] = lists
        out_months.append(row)
        ever_active_before |= active[i]

    # Cohorts (§11).
    cohort_of: dict[str, int] = {}
    for c in customers_sorted:
        for i in range(nm):
            if cust_mrr[c][i] > 0:
                cohort_of[c] = i
                break
    members: dict[int, list[str]] = defaultdict(list)
    for c, i in cohort_of.items():
        members[i].append(c)
    cohorts = []
    sum_active = [0] * nm
    sum_mrr = [0] * nm
    for i in sorted(members):
        mem = members[i]
        size = len(mem)
        base_mrr = sum(cust_mrr[c][i] for c in mem)
        cells = []
        for j in range(i, nm):
            act = sum(1 for c in mem if cust_mrr[c][j] > 0)
            m_j = sum(cust_mrr[c][j] for c in mem)
            sum_active[j] += act
            sum_mrr[j] += m_j
            cells.append({
                "month": month_str(months[j]), "months_since": j - i,
                "active_customers": act, "mrr": money(m_j),
                "customer_retention_pct": rate_pct(act, size),
                "mrr_retention_pct": rate_pct(m_j, base_mrr),
            })
        cohorts.append({"cohort": month_str(months[i]), "opening": i == 0,
                        "customers": size, "mrr": money(base_mrr),
                        "cells": cells})
    ever = len(cohort_of)
    if nm:
        new_total = sum(r["movement_customers"]["new"]
                        for r in out_months[1:])
        if ever != len(active[0]) + new_total:
            bad("all", "cohort sizes != opening customers + new customers")
    if ever != sum(len(v) for v in members.values()):
        bad("all", "cohort sizes != customers ever active")
    for j in range(nm):
        if sum_active[j] != len(active[j]):
            bad(month_str(months[j]), "cohort active customers != customers")
        if sum_mrr[j] != mrr[j]:
            bad(month_str(months[j]), "cohort MRR != MRR")

    result = {"currency": cur, "decimals": exp, "months": out_months,
              "cohorts": cohorts, "movement_customers_detail": details}
    if want_customer_mrr:
        result["customer_mrr"] = {
            c: [money(v) for v in cust_mrr[c]] for c in customers_sorted
            if any(cust_mrr[c])}
    if want_invoices:
        result["invoices"] = [
            {"transaction_id": inv.tx.txid, "customer_id": inv.tx.customer,
             "subscription_id": inv.tx.sub,
             "timestamp": inv.tx.t.isoformat().replace("+00:00", "Z"),
             "total": money(inv.tx.minor), "interval_months": inv.k,
             "interval_source": inv.source, "mrr": money(inv.mrr),
             "end": inv.end.isoformat().replace("+00:00", "Z")}
            for key in sorted(invoices_by_sub)
            for inv in invoices_by_sub[key]]
    return result


def reporting_window(txs: list[Tx]):
    """All months of the window and the closed ones (§4)."""
    if not txs:
        return [], [], None, None
    first = min(tx.t for tx in txs)
    last = max(tx.t for tx in txs)
    allm, m = [], month_key(first)
    while m <= month_key(last):
        allm.append(m)
        m = next_month(m)
    closed = [m for m in allm if close_of(m) <= last]
    return allm, closed, first, last


def compute(loaded: Loaded, grace_days: int = 7,
            annual_threshold: Decimal = Decimal("3000.00"),
            currency: str | None = None, want_customer_mrr=False,
            want_invoices=False) -> tuple[dict, list[str]]:
    if grace_days < 0:
        raise ValueError("grace_days must be >= 0")
    allm, closed, first, last = reporting_window(loaded.txs)
    by_cur: dict[str, list[Tx]] = defaultdict(list)
    for tx in loaded.txs:
        by_cur[tx.currency].append(tx)
    wanted = sorted(by_cur) if currency is None else [currency.lower()]
    violations: list[str] = []
    curs = {}
    for cur in wanted:
        curs[cur] = compute_currency(
            cur, by_cur.get(cur, []), loaded, closed, grace_days,
            annual_threshold, violations, want_customer_mrr, want_invoices)
    iso = lambda t: t.isoformat().replace("+00:00", "Z") if t else None  # noqa
    out = {
        "parameters": {"grace_days": grace_days,
                       "annual_threshold": str(annual_threshold),
                       "currency": currency},
        "window": {"first_transaction": iso(first),
                   "last_transaction": iso(last),
                   "months": [month_str(m) for m in allm],
                   "closed_months": [month_str(m) for m in closed]},
        "input": loaded.stats,
        "currencies": curs,
        "invariant_violations": violations,
    }
    return out, violations


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", type=Path, help="folder with the export files")
    ap.add_argument("--grace-days", type=int, default=7)
    ap.add_argument("--annual-threshold", default="3000.00")
    ap.add_argument("--currency", default=None)
    ap.add_argument("--customer-mrr", action="store_true",
                    help="also output every customer's MRR at every close")
    ap.add_argument("--invoices", action="store_true",
                    help="also output every recurring invoice's interval")
    ap.add_argument("--keep-going", action="store_true",
                    help="print the JSON even when an invariant fails")
    ap.add_argument("--now", default=None,
                    help="ISO instant taken as the run time (date checks)")
    args = ap.parse_args(argv)
    if args.grace_days < 0:
        ap.error("--grace-days must be >= 0")
    try:
        threshold = Decimal(args.annual_threshold)
    except InvalidOperation:
        ap.error("--annual-threshold must be a decimal")
    if not threshold.is_finite() or threshold < 0:
        ap.error("--annual-threshold must be a finite decimal >= 0")
    now = parse_date(args.now) if args.now else None
    loaded = load_export(args.input, now=now)
    out, violations = compute(loaded, args.grace_days, threshold,
                              args.currency, args.customer_mrr, args.invoices)
    for v in violations:
        print(f"invariant violated: {v}", file=sys.stderr)
    if violations and not args.keep_going:
        return 3
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 3 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
