#!/usr/bin/env python3
"""Writes a random export (transactions.csv, products.csv) for a differential
comparison of examples/saas_csv.rs with scripts/saas_reference.py:

    python3 backend/saas/examples/random_export.py SEED DIR

Cadences at and around the edges of the interval bands, late and early
renewals, refunds, zero totals, doubled rows, invoices without subscription,
a subscription shared by customers, usd/eur/jpy, catalogue items with every
kind of name hint and interval spelling.
"""
import random, sys, os, datetime as dt
seed = int(sys.argv[1]); out = sys.argv[2]
r = random.Random(seed)
os.makedirs(out, exist_ok=True)
GAPS = [1, 5, 24, 25, 28, 30, 31, 35, 36, 60, 79, 80, 91, 100, 101, 150, 169, 170, 182, 200, 201, 349, 350, 365, 380, 381]
NAMES = ["Basic", "Video : Quarterly", "Plan 3 months", "Plan 36 Months", "Big : Semi-Annual", "0 months quarterly", "Chat Elevate : 10k MAU", "3-month pass", "semiannual thing"]
INTERVALS = ["month", "year", "Year", "week", " month "]
curs = ["usd", "usd", "usd", "eur", "jpy"]
tx = []
prods = []
n = 0
start = dt.datetime(2024, 1, 1)
for c in range(r.randint(2, 25)):
    for s in range(r.randint(1, 3)):
        cur = r.choice(curs)
        cust = f"cus_{c}"
        sub = "" if r.random() < 0.1 else f"sub_{c}_{s}" if r.random() < 0.9 else f"sub_shared_{s}"
        if sub and r.random() < 0.4:
            for _ in range(r.randint(1, 2)):
                prods.append((sub, f"price_{r.randint(0,3)}", r.choice(NAMES), r.choice(INTERVALS)))
        t = start + dt.timedelta(minutes=r.randint(0, 60*24*300))
        amt = r.choice([100, 499, 2999.99, 3000, 6000, 50, 1.02, 12.5])
        for i in range(r.randint(1, 10)):
            k = r.random()
            total = amt if k < 0.8 else (0 if k < 0.88 else (-amt if k < 0.93 else amt * 2))
            if cur == "jpy":
                total = int(total * 100)
            n += 1
            tid = f"in_{r.randint(0, 10**6):07d}_{n}"
            if r.random() < 0.03:
                tid = f"in_same_{c}_{s}_{i}"
                tx.append((t, tid, cust, sub, total, cur))
            tx.append((t, tid, cust, sub, total, cur))
            g = r.choice(GAPS)
            t = t + dt.timedelta(days=g, hours=r.randint(-30, 30), minutes=r.randint(0, 59))
            if t > dt.datetime(2025, 6, 1):
                break
r.shuffle(tx)
def fmt_total(v):
    if isinstance(v, int): return str(v)
    s = f"{v:.2f}"
    return s.rstrip("0").rstrip(".") if r.random() < 0.5 else s
with open(f"{out}/transactions.csv", "w") as f:
    f.write("Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency\r\n")
    for t, tid, cust, sub, total, cur in tx:
        d = f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}:{t.second:02d}"
        f.write(f"{d}\t{tid}\t{cust}\t{sub}\t{fmt_total(total)}\t{cur}\r\n")
with open(f"{out}/products.csv", "w") as f:
    f.write("subscription ID\tPlan\tProduct\tInterval\tAmount\tStatus\r\n")
    for sub, plan, name, iv in prods:
        f.write(f"{sub}\t{plan}\t{name}\t{iv}\t100\tactive\r\n")
