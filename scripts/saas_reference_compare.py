#!/usr/bin/env python3
"""Compare scripts/saas_reference.py on a real export with the figures that
shared/specs/saas-metrics.md states for it ("What this export allows", the
tables of §5 and §6, §14).

Usage: python3 scripts/saas_reference_compare.py [EXPORT_DIR]
       (default /work/shared/seed-input; the export is read, never copied)

Prints one line per stated figure: MATCH / DIFF, the spec's value and ours.
Exit status 1 when any figure differs.

Readings of the descriptive figures (not definitions of the service):
- a "flip" (§6 table) is counted per reactivation event: every reactivation
  follows a churn of the same customer inside the window; the distinct
  customers behind them are printed as info (fewer: some flip twice);
- a renewal's lateness is next invoice minus add_months(previous, band k), in
  fractional days; "3 days early .. 1 day late" is [-3, +1] inclusive;
- "zero totals on subscriptions never billed more than $0": zero-total rows
  whose (currency, customer, subscription) has no positive total at all.
"""

import datetime as dt
import statistics
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import saas_reference as ref  # noqa: E402

UTC = dt.timezone.utc
ROWS: list[tuple[str, str, str, bool]] = []
INFO: list[str] = []


def check(label, stated, computed):
    ROWS.append((label, str(stated), str(computed),
                 str(stated) == str(computed)))


def money(minor):
    return f"{Decimal(minor) / 100:,.2f}"


def pct1(num, den):
    return f"{Decimal(100 * num) / Decimal(den):.1f}%"


def millions(s):
    return f"{Decimal(s) / Decimal(1_000_000):.2f}M"


def usd_run(loaded, grace=7, threshold="3000.00", invoices=False):
    out, v = ref.compute(loaded, grace, Decimal(threshold), "usd",
                         want_customer_mrr=True, want_invoices=invoices)
    if v:
        print("invariant violations:", *v, sep="\n  ")
    return out["currencies"]["usd"]


def cents(s):
    return int(Decimal(s) * 100)


def movement_stats(usd):
    ms = usd["months"]
    later = ms[1:]
    churn_events = sum(m["movement_customers"]["churn"] for m in later)
    react = sum(m["movement_customers"]["reactivation"] for m in later)
    churn_mrr = sum(cents(m["movements"]["churn"]) for m in later)
    logo = [Decimal(m["logo_churn_rate_pct"]) for m in later]
    nrr = [Decimal(m["nrr_pct"]) for m in later]
    # flips: customers who churned and were later reactivated in the window
    # flip = a churn followed by a reactivation of the same customer inside
    # the window; counted per reactivation (event) and per customer.
    churned_at, flips, flips_customers = defaultdict(list), 0, set()
    for m in later:
        det = usd["movement_customers_detail"][m["month"]]
        for x in det["churn"]:
            churned_at[x["customer_id"]].append(m["month"])
        for x in det["reactivation"]:
            if churned_at.get(x["customer_id"]):
                flips += 1
                flips_customers.add(x["customer_id"])
    return dict(churn_events=churn_events, reactivations=react,
                churn_mrr=churn_mrr, logo=logo, nrr=nrr, flips=flips,
                flip_customers=len(flips_customers),
                mean_logo=sum(logo) / len(logo))


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1
                  else "/work/shared/seed-input")
    loaded = ref.load_export(folder, now=dt.datetime(2024, 10, 5, tzinfo=UTC))
    txs = loaded.txs

    # ---- What this export allows -------------------------------------
    check("transactions loaded", 12870, len(txs))
    check("first transaction", "2024-01-01 07:00",
          min(t.t for t in txs).strftime("%Y-%m-%d %H:%M"))
    check("last transaction", "2024-10-03 16:44",
          max(t.t for t in txs).strftime("%Y-%m-%d %H:%M"))
    cur = Counter(t.currency for t in txs)
    check("usd transactions", 12865, cur["usd"])
    check("eur transactions", 5, cur["eur"])
    cust_cur = defaultdict(set)
    sub_cust = defaultdict(set)
    for t in txs:
        cust_cur[t.customer].add(t.currency)
        if t.sub:
            sub_cust[t.sub].add(t.customer)
    check("customers in two currencies", 0,
          sum(1 for v in cust_cur.values() if len(v) > 1))
    check("subscriptions under two customers", 0,
          sum(1 for v in sub_cust.values() if len(v) > 1))
    empty = [t for t in txs if not t.sub]
    check("empty subscription id", "1,214 (9.4%)",
          f"{len(empty):,} ({pct1(len(empty), len(txs))})")
    check("positive totals without subscription id", "2,174,699.22",
          money(sum(t.minor for t in empty if t.minor > 0)))
    in_prod = [t for t in txs if t.sub and t.sub in loaded.products]
    absent = [t for t in txs if t.sub and t.sub not in loaded.products]
    check("subscription id in products.csv", "1,612 (12.5%)",
          f"{len(in_prod):,} ({pct1(len(in_prod), len(txs))})")
    check("subscription id absent from products.csv", "10,044 (78.0%)",
          f"{len(absent):,} ({pct1(len(absent), len(txs))})")
    check("products.csv rows", 460, loaded.stats["product_items"])
    check("products.csv subscriptions", 425,
          loaded.stats["product_subscriptions"])
    zero = [t for t in txs if t.minor == 0]
    max_by_sub = defaultdict(int)
    for t in txs:
        if t.sub:
            k = (t.currency, t.customer, t.sub)
            max_by_sub[k] = max(max_by_sub[k], t.minor)
    check("zero totals", 705, len(zero))
    check("zero totals on subscriptions never billed > 0", 531,
          sum(1 for t in zero if t.sub and
              max_by_sub[(t.currency, t.customer, t.sub)] <= 0))
    neg = [t for t in txs if t.minor < 0]
    check("negative totals", "12 (-11,146.41)",
          f"{len(neg)} ({money(sum(t.minor for t in neg))})")

    # cadence
    subs = defaultdict(list)
    for t in txs:
        if t.sub and t.minor > 0:
            subs[(t.currency, t.customer, t.sub)].append(t)
    gaps = []
    for lst in subs.values():
        lst.sort(key=lambda x: x.order)
        gaps += [ref.gap_days(a.t, b.t) for a, b in zip(lst, lst[1:])]
    check("gaps between consecutive positive invoices", "9,242",
          f"{len(gaps):,}")
    g = Counter(gaps)
    n = lambda lo, hi: sum(v for k, v in g.items() if lo <= k <= hi)  # noqa
    check("gaps 25-35 days", "95.7%", pct1(n(25, 35), len(gaps)))
    check("gaps 28-31 days", "8,828", f"{n(28, 31):,}")
    check("gaps 80-100 days", "2.7%", pct1(n(80, 100), len(gaps)))
    check("gaps 89-92 days", 244, n(89, 92))
    check("gaps 182-184 days", 3, n(182, 184))
    check("gaps >= 350 days", 0, n(350, 10 ** 6))
    check("gaps under 25 days", 123, n(-1, 24))

    usd7 = usd_run(loaded, invoices=True)
    eur7 = ref.compute(loaded, 7, Decimal("3000.00"), "eur")[0][
        "currencies"]["eur"]
    # renewals inside a band: next minus anniversary of the previous
    deltas = []
    for lst in subs.values():
        for a, b in zip(lst, lst[1:]):
            k = ref.band(ref.gap_days(a.t, b.t))
            if k:
                deltas.append((b.t - ref.add_months(a.t, k))
                              / dt.timedelta(days=1))
    check("renewals inside a band", "9,093", f"{len(deltas):,}")
    in_range = sum(1 for d in deltas if -3 <= d <= 1)
    check("renewals 3 days early .. 1 day late", "99.4%",
          pct1(in_range, len(deltas)))
    INFO.append(f"renewals in [-3, +1] days: {in_range:,} of {len(deltas):,}"
                f" = {Decimal(100 * in_range) / len(deltas):.3f}%;"
                f" more than 3 days early: "
                f"{sum(1 for d in deltas if d < -3)}")
    ds = sorted(deltas)
    p99 = ds[min(len(ds) - 1, int(0.99 * len(ds)))]
    check("renewal delay p99 (days, rounded)", "+1", f"{round(p99):+d}")
    check("renewals 1-3 days late", 36, sum(1 for d in deltas if 1 < d <= 3))
    check("renewals 3-7 days late", 1, sum(1 for d in deltas if 3 < d <= 7))
    check("renewals > 7 days late", 0, sum(1 for d in deltas if d > 7))

    # single positive invoice subscriptions
    singles = [lst[0] for lst in subs.values() if len(lst) == 1]
    kinds = Counter()
    year_ge = 0
    unknown = []
    for t in singles:
        items = loaded.products.get(t.sub, [])
        ivs = {i for i, _ in items}
        if "year" in ivs:
            kinds["year"] += 1
            year_ge += t.minor >= 300000
        elif "month" in ivs:
            kinds["month"] += 1
        else:
            kinds["unknown"] += 1
            unknown.append(t.minor)
    check("subscriptions with a single positive invoice", 235, len(singles))
    check("... year / >= 3,000 / month / unknown", "50 / 49 / 41 / 144",
          f"{kinds['year']} / {year_ge} / {kinds['month']} / "
          f"{kinds['unknown']}")
    check("... unknown: total", "3,733,435.83", money(sum(unknown)))
    check("... unknown: median", "1,497.00",
          money(int(statistics.median(unknown))) if unknown else "-")
    check("... unknown: max", "448,000.00", money(max(unknown)))
    inv = usd7["invoices"]
    observed_monthly = sorted(
        cents(i["total"]) for i in inv
        if i["interval_months"] == 1 and i["interval_source"].startswith(
            "observed"))
    check("observed monthly invoices: median", "499.00",
          money(int(statistics.median(observed_monthly))))
    check("observed monthly invoices: p99", "5,000.00",
          money(observed_monthly[int(0.99 * len(observed_monthly))]))
    check("observed monthly invoices >= 3,000.00", "2.3%",
          pct1(sum(1 for v in observed_monthly if v >= 300000),
               len(observed_monthly)))
    src = Counter(i["interval_source"] for i in inv)
    check("usd recurring invoices", "10,941", f"{len(inv):,}")
    check("decided by rule 1 (observed_next)", "9,093",
          f"{src['observed_next']:,}")
    check("decided by rules 5-6", 227,
          src["assumed_annual"] + src["assumed_monthly"])

    # ---- §5 threshold table ------------------------------------------
    table5 = {
        "always 1 month": ("10000000000", "1.68M 1.69M 2.26M 2.10M 1.96M "
                           "2.43M 1.97M 2.44M 2.34M", "3,909,153.75",
                           "68.21-90.59%", "3.04-4.23%"),
        "always 12 months": ("0", "0.90M ... 1.80M", "154,854.07",
                             "98.63-103.04%", "0.00-3.17%"),
        "12 if >= 2,000": ("2000", "0.92M ... 1.81M", "190,769.68",
                           "98.51-101.03%", "2.08-3.42%"),
        "12 if >= 3,000": ("3000", "0.92M ... 1.81M", "199,159.11",
                           "98.49-101.03%", "2.08-3.42%"),
        "12 if >= 5,000": ("5000", "0.94M ... 1.80M", "259,026.13",
                           "97.91-100.27%", "2.24-3.43%"),
        "12 if >= 10,000": ("10000", "0.97M ... 1.80M", "355,588.35",
                            "97.00-99.51%", "2.26-3.60%"),
    }
    for label, (thr, mrr_s, churn_s, nrr_s, logo_s) in table5.items():
        u = usd7 if thr == "3000" else usd_run(loaded, 7, thr)
        st = movement_stats(u)
        series = [millions(m["mrr"]) for m in u["months"]]
        got = (" ".join(series) if "..." not in mrr_s
               else f"{series[0]} ... {series[-1]}")
        check(f"§5 {label}: MRR Jan-Sep", mrr_s, got)
        check(f"§5 {label}: churn, 8 months", churn_s, money(st["churn_mrr"]))
        check(f"§5 {label}: NRR/month", nrr_s,
              f"{min(st['nrr'])}-{max(st['nrr'])}%")
        check(f"§5 {label}: logo churn/month", logo_s,
              f"{min(st['logo'])}-{max(st['logo'])}%")

    # ---- §6 grace table ----------------------------------------------
    table6 = {0: (275, 20, 20, "211,868.38", "1,806,577.85", "2.80%"),
              1: (272, 18, 18, "206,266.16", "1,807,910.18", "2.77%"),
              3: (268, 14, 14, "200,150.51", "1,808,409.18", "2.72%"),
              7: (266, 14, 14, "199,159.11", "1,809,459.58", "2.69%"),
              14: (262, 13, 13, "196,464.01", "1,817,103.25", "2.63%"),
              30: (232, 5, 5, "173,346.34", "1,835,373.05", "2.28%")}
    for grace, (ce, re_, fl, cm, sep, logo) in table6.items():
        u = usd7 if grace == 7 else usd_run(loaded, grace)
        st = movement_stats(u)
        check(f"§6 grace {grace}: churn events", ce, st["churn_events"])
        check(f"§6 grace {grace}: reactivations", re_, st["reactivations"])
        check(f"§6 grace {grace}: flips (events)", fl, st["flips"])
        INFO.append(f"§6 grace {grace}: the {st['flips']} flips are "
                    f"{st['flip_customers']} distinct customers")
        check(f"§6 grace {grace}: churned MRR", cm, money(st["churn_mrr"]))
        check(f"§6 grace {grace}: MRR at Sep close", sep,
              money(cents(u["months"][-1]["mrr"])))
        check(f"§6 grace {grace}: mean logo churn (of rounded rates)", logo,
              f"{st['mean_logo']:.2f}%")

    # ---- §14 ---------------------------------------------------------
    ms = usd7["months"]
    jan, apr, sep = ms[0], ms[3], ms[-1]
    s = {k: cents(v) for k, v in sep["mrr_by_interval_source"].items()}
    total = cents(sep["mrr"])
    check("§14 Sep usd MRR", "1,809,459.58", money(total))
    check("§14 Sep assumed_annual", "382,487.25", money(s["assumed_annual"]))
    check("§14 Sep assumed_monthly", "9,039.74", money(s["assumed_monthly"]))
    check("§14 Sep share on an assumption", "21.6%",
          pct1(s["assumed_annual"] + s["assumed_monthly"], total))
    check("§14 Sep share observed cadence", "67.9%",
          pct1(s["observed_next"] + s["observed_previous"], total))
    check("§14 Sep share catalogue", "10.4%",
          pct1(s["catalogue_year"] + s["catalogue_month"], total))
    check("§14 Jan usd MRR", "922,879.82", money(cents(jan["mrr"])))
    iv = lambda m, k: money(cents(m["mrr_by_interval_months"].get(k, "0")))  # noqa
    check("§14 monthly-plan MRR Jan -> Sep", "697,286.27 -> 699,350.53",
          f"{iv(jan, '1')} -> {iv(sep, '1')}")
    check("§14 quarterly MRR Jan -> Apr -> Sep",
          "147,067.43 -> 521,203.28 -> 582,194.98",
          f"{iv(jan, '3')} -> {iv(apr, '3')} -> {iv(sep, '3')}")
    check("§14 annual MRR Jan -> Sep", "73,776.12 -> 503,839.97",
          f"{iv(jan, '12')} -> {iv(sep, '12')}")
    for m, stated in ((ms[1], "86%"), (ms[2], "79%")):
        mv = m["movements"]
        check(f"§14 {m['month']} new business left-censored (MRR)", stated,
              f"{Decimal(100) * Decimal(mv['new_left_censored']) / Decimal(mv['new']):.0f}%")
    check("§14 12-month NRR/GRR null everywhere", True,
          all(m["nrr_12m_pct"] is None and m["grr_12m_pct"] is None
              for m in ms))
    pos_empty_usd = [t for t in txs if not t.sub and t.minor > 0
                     and t.currency == "usd"]
    check("§14 usage invoices (positive, no subscription id)", "1,207",
          f"{len(pos_empty_usd):,}")
    check("§14 usage revenue", "2,174,699.22",
          money(sum(t.minor for t in pos_empty_usd)))
    billed = sum(cents(m["billed"]["total"]) for m in ms)
    billed_all = sum(t.minor for t in txs if t.currency == "usd")
    usage = sum(t.minor for t in pos_empty_usd)
    check("§14 usage share of usd billed (closed months)", "10%",
          f"{Decimal(100 * usage) / billed:.0f}%")
    INFO.append(f"usage share of usd billed: {pct1(usage, billed)} of the "
                f"closed months, {pct1(usage, billed_all)} of all")
    subscribers = {c for c in usd7["customer_mrr"]}
    usage_only = {t.customer for t in pos_empty_usd} - {
        t.customer for t in txs if t.sub and t.minor > 0}
    check("§14 customers paying only usage", 16, len(usage_only))
    check("§14 ... none of them a subscriber", True,
          not (usage_only & subscribers))
    eur_customers = {t.customer for t in txs if t.currency == "eur"}
    check("§14 eur invoices / customers", "5 / 4",
          f"{cur['eur']} / {len(eur_customers)}")
    check("§4 closed months", "2024-01 .. 2024-09",
          f"{ms[0]['month']} .. {ms[-1]['month']}")
    check("eur months reported", 9, len(eur7["months"]))

    width = max(len(r[0]) for r in ROWS)
    bad = 0
    for label, stated, got, ok in ROWS:
        bad += not ok
        print(f"{'MATCH' if ok else 'DIFF '}  {label:<{width}}  "
              f"spec: {stated}" + ("" if ok else f"  | ours: {got}"))
    print(*[f"info   {x}" for x in INFO], sep="\n")
    print(f"\n{len(ROWS) - bad} of {len(ROWS)} stated figures match, "
          f"{bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
