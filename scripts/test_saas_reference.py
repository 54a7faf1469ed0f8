#!/usr/bin/env python3
"""Tests of scripts/saas_reference.py: every value §12 of
shared/specs/saas-metrics.md states for fixture K1 (grace 7 and grace 0), the
worked examples of §3/§5, the input rules, and — when the real export is on
this machine — the figures §5, §6 and §14 state for it.

Run: python3 -m unittest scripts/test_saas_reference.py   (from the repo root)
  or python3 scripts/test_saas_reference.py
"""

import datetime as dt
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import saas_reference as ref  # noqa: E402

UTC = dt.timezone.utc

K1_PRODUCTS = """\
subscription ID	Plan	Product	Interval	Amount	Status
sub_B	price_B	Chat Enterprise : Annually	year	1200	active
sub_J	price_J	Tiny : Annually	year	1.02	active
sub_M	price_M	Video : Quarterly	month	600	active
"""

K1_TRANSACTIONS = """\
Date (UTC)	Transaction ID	Customer ID	Subscription ID	Total	Currency
1/10/24 12:00	in_A1	cus_A	sub_A	100	usd
2/10/24 12:00	in_A2	cus_A	sub_A	100	usd
3/10/24 12:00	in_A3	cus_A	sub_A	100	usd
1/15/24 9:00	in_B1	cus_B	sub_B	1200	usd
2/20/24 8:00	in_C1	cus_C	sub_C	6000	usd
1/5/24 8:00	in_D1	cus_D	sub_D	300	usd
4/5/24 8:00	in_D2	cus_D	sub_D	300	usd
1/31/24 10:00	in_E1	cus_E	sub_E	80	usd
3/1/24 9:00	in_E2	cus_E	sub_E	80	usd
4/1/24 9:00	in_E3	cus_E	sub_E	80	usd
1/3/24 7:00	in_F1	cus_F	sub_F	50	usd
2/3/24 7:00	in_F2	cus_F	sub_F	50	usd
2/20/24 7:00	in_F3	cus_F	sub_F	-50	usd
2/25/24 7:00	in_F4	cus_F	sub_F	0	usd
3/3/24 7:00	in_F5	cus_F	sub_F	50	usd
4/3/24 7:00	in_F6	cus_F	sub_F	50	usd
1/1/24 6:00	in_G1	cus_G	sub_G1	100	usd
2/1/24 6:00	in_G2	cus_G	sub_G1	100	usd
3/1/24 6:00	in_G3	cus_G	sub_G1	100	usd
4/1/24 6:00	in_G4	cus_G	sub_G1	100	usd
2/1/24 7:00	in_G5	cus_G	sub_G2	50	usd
3/1/24 7:00	in_G6	cus_G	sub_G2	50	usd
1/7/24 5:00	in_H1	cus_H1	sub_H	20	usd
2/7/24 5:00	in_H2	cus_H1	sub_H	20	usd
3/7/24 5:00	in_H3	cus_H2	sub_H	20	usd
4/7/24 5:00	in_H4	cus_H2	sub_H	20	usd
1/12/24 4:00	in_I1	cus_I	sub_I1	10	usd
2/12/24 4:00	in_I2	cus_I	sub_I1	10	usd
3/12/24 4:00	in_I3	cus_I	sub_I1	10	usd
4/12/24 4:00	in_I4	cus_I	sub_I1	10	usd
1/12/24 4:00	in_I5	cus_I	sub_I2	20	eur
2/12/24 4:00	in_I6	cus_I	sub_I2	20	eur
3/12/24 4:00	in_I7	cus_I	sub_I2	20	eur
4/12/24 4:00	in_I8	cus_I	sub_I2	20	eur
3/15/24 3:00	in_J1	cus_J	sub_J	1.02	usd
2/14/24 2:00	in_K1	cus_K		500	usd
1/20/24 1:00	in_L1	cus_L	sub_L	0	usd
2/20/24 1:00	in_L2	cus_L	sub_L	0	usd
2/10/24 11:00	in_M1	cus_M	sub_M	600	usd
5/5/24 12:00	in_Z1	cus_Z	sub_Z	10	usd
"""

K1_USERS = "Customer ID\tCustomer Name\tCustomer Email\n"

REAL_EXPORT = Path(os.environ.get("SAAS_REAL_EXPORT",
                                  "/work/shared/seed-input"))


def write_export(folder: Path, transactions: str, products: str = K1_PRODUCTS,
                 users: str | None = K1_USERS) -> None:
    """Write the files the way the export does: TSV with CRLF endings."""
    crlf = lambda s: s.replace("\n", "\r\n").encode("utf-8")  # noqa: E731
    (folder / "transactions.csv").write_bytes(crlf(transactions))
    (folder / "products.csv").write_bytes(crlf(products))
    if users is not None:
        (folder / "users.csv").write_bytes(crlf(users))


def run(folder: Path, grace=7, threshold="3000.00", **kw):
    loaded = ref.load_export(folder, now=dt.datetime(2024, 10, 5, tzinfo=UTC))
    return ref.compute(loaded, grace, Decimal(threshold), **kw)


def expected_mrr():
    return {
        "cus_A": ["100.00", "100.00", "100.00", "0.00"],
        "cus_B": ["100.00"] * 4,
        "cus_C": ["0.00", "500.00", "500.00", "500.00"],
        "cus_D": ["100.00"] * 4,
        "cus_E": ["80.00"] * 4,
        "cus_F": ["50.00"] * 4,
        "cus_G": ["100.00", "150.00", "150.00", "100.00"],
        "cus_H1": ["20.00", "20.00", "0.00", "0.00"],
        "cus_H2": ["0.00", "0.00", "20.00", "20.00"],
        "cus_I": ["10.00"] * 4,
        "cus_J": ["0.00", "0.00", "0.09", "0.09"],
        "cus_M": ["0.00", "200.00", "200.00", "200.00"],
    }


class K1Base(unittest.TestCase):
    grace = 7

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        folder = Path(cls.tmp.name)
        write_export(folder, K1_TRANSACTIONS)
        cls.out, cls.violations = run(folder, cls.grace,
                                      want_customer_mrr=True)
        cls.usd = cls.out["currencies"]["usd"]
        cls.eur = cls.out["currencies"]["eur"]
        cls.m = {r["month"]: r for r in cls.usd["months"]}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()


class K1Grace7(K1Base):
    grace = 7

    def test_no_invariant_violation(self):
        self.assertEqual(self.violations, [])

    def test_window(self):
        self.assertEqual(self.out["window"]["closed_months"],
                         ["2024-01", "2024-02", "2024-03", "2024-04"])
        self.assertEqual(self.out["window"]["months"][-1], "2024-05")
        self.assertEqual([r["month"] for r in self.eur["months"]],
                         ["2024-01", "2024-02", "2024-03", "2024-04"])

    def test_customer_mrr_usd(self):
        # cus_Z (open month), cus_K (one-off), cus_L ($0 only): 0 x4, so
        # absent from the customers with some MRR.
        self.assertEqual(self.usd["customer_mrr"], expected_mrr())

    def test_customer_mrr_eur(self):
        self.assertEqual(self.eur["customer_mrr"], {"cus_I": ["20.00"] * 4})
        self.assertEqual([r["mrr"] for r in self.eur["months"]],
                         ["20.00"] * 4)
        self.assertEqual([r["customers"] for r in self.eur["months"]],
                         [1] * 4)

    def test_table(self):
        rows = [
            ("2024-01", "560.00", 8, None),
            ("2024-02", "1310.00", 10,
             ("700.00", "50.00", "0.00", "0.00", "0.00", "700.00")),
            ("2024-03", "1310.09", 11,
             ("20.09", "0.00", "0.00", "20.00", "0.00", "0.09")),
            ("2024-04", "1160.09", 10,
             ("0.00", "0.00", "50.00", "100.00", "0.00", "0.00")),
        ]
        for month, mrr, customers, mv in rows:
            r = self.m[month]
            self.assertEqual(r["mrr"], mrr, month)
            self.assertEqual(r["customers"], customers, month)
            if mv is None:
                self.assertIsNone(r["movements"])
                self.assertIsNone(r["movement_customers"])
                continue
            got = r["movements"]
            self.assertEqual(
                (got["new"], got["expansion"], got["contraction"],
                 got["churn"], got["reactivation"],
                 got["new_left_censored"]), mv, month)

    def test_movement_customers_and_net_new(self):
        self.assertEqual(self.m["2024-02"]["movement_customers"], {
            "new": 2, "expansion": 1, "contraction": 0, "churn": 0,
            "reactivation": 0, "new_left_censored": 2})
        self.assertEqual(self.m["2024-03"]["movement_customers"], {
            "new": 2, "expansion": 0, "contraction": 0, "churn": 1,
            "reactivation": 0, "new_left_censored": 1})
        self.assertEqual(self.m["2024-04"]["movement_customers"], {
            "new": 0, "expansion": 0, "contraction": 1, "churn": 1,
            "reactivation": 0, "new_left_censored": 0})
        self.assertEqual(self.m["2024-02"]["movements"]["net_new"], "750.00")
        self.assertEqual(self.m["2024-04"]["movements"]["net_new"],
                         "-150.00")

    def test_drill_down(self):
        d = self.usd["movement_customers_detail"]
        self.assertEqual([(x["customer_id"], x["previous_mrr"],
                           x["current_mrr"]) for x in d["2024-03"]["new"]],
                         [("cus_H2", "0.00", "20.00"),
                          ("cus_J", "0.00", "0.09")])
        self.assertEqual([x["left_censored"] for x in d["2024-03"]["new"]],
                         [False, True])
        self.assertEqual([(x["customer_id"], x["previous_mrr"],
                           x["current_mrr"]) for x in d["2024-04"]["churn"]],
                         [("cus_A", "100.00", "0.00")])
        self.assertEqual(
            [x["customer_id"] for x in d["2024-04"]["contraction"]],
            ["cus_G"])

    def test_rates(self):
        feb, mar, apr = self.m["2024-02"], self.m["2024-03"], self.m["2024-04"]
        self.assertIsNone(feb["quick_ratio"])
        self.assertEqual(mar["logo_churn_rate_pct"], "10.00")
        self.assertEqual(mar["quick_ratio"], "1.00")
        self.assertEqual(apr["logo_churn_rate_pct"], "9.09")
        self.assertEqual(apr["nrr_pct"], "88.55")
        self.assertEqual(apr["grr_pct"], "88.55")
        self.assertEqual(apr["nrr_3m_pct"], "78.57")
        self.assertEqual(apr["grr_3m_pct"], "78.57")
        self.assertEqual(apr["arpa"], "116.01")

    def test_opening_month_and_nulls(self):
        jan = self.m["2024-01"]
        for key in ("logo_churn_rate_pct", "gross_mrr_churn_rate_pct",
                    "net_mrr_churn_rate_pct", "nrr_pct", "grr_pct",
                    "nrr_3m_pct", "grr_3m_pct", "nrr_6m_pct", "grr_6m_pct",
                    "nrr_12m_pct", "grr_12m_pct", "quick_ratio",
                    "mrr_growth_pct"):
            self.assertIsNone(jan[key], key)
        self.assertEqual(jan["arpa"], "70.00")
        self.assertEqual(jan["arr"], "6720.00")
        self.assertIsNone(self.m["2024-03"]["nrr_3m_pct"])
        self.assertIsNone(self.m["2024-04"]["nrr_6m_pct"])
        self.assertEqual([self.m[k]["warm_up"] for k in sorted(self.m)],
                         [True, True, False, False])
        self.assertEqual([self.m[k]["opening_complete_up_to_months"]
                          for k in sorted(self.m)], [1, 2, 3, 4])

    def test_billed_february(self):
        b = self.m["2024-02"]["billed"]
        self.assertEqual(b["recurring"]["amount"], "6930.00")
        self.assertEqual(b["one_off"]["amount"], "500.00")
        self.assertEqual(b["refunds"]["amount"], "-50.00")
        self.assertEqual(b["refunds"]["count"], 1)
        self.assertEqual(b["zero_invoices"]["count"], 2)
        self.assertEqual(b["total"], "7380.00")
        self.assertEqual(b["invoices"], 12)

    def test_splits(self):
        # At the Mar close, by hand: observed_next D1 100, E2 80, F5 50,
        # G3 100, H3 20, I3 10; observed_previous A3 100, G6 50;
        # catalogue_year B1 100, J1 0.09; catalogue_month M1 200;
        # assumed_annual C1 500.
        mar = self.m["2024-03"]
        self.assertEqual(mar["mrr_by_interval_months"],
                         {"1": "410.00", "3": "300.00", "12": "600.09"})
        self.assertEqual(mar["mrr_by_interval_source"], {
            "observed_next": "360.00", "catalogue_year": "100.09",
            "observed_previous": "150.00", "catalogue_month": "200.00",
            "assumed_annual": "500.00", "assumed_monthly": "0.00"})

    def test_cohorts(self):
        cohorts = [(c["cohort"], c["opening"], c["customers"])
                   for c in self.usd["cohorts"]]
        self.assertEqual(cohorts, [("2024-01", True, 8),
                                   ("2024-02", False, 2),
                                   ("2024-03", False, 2)])
        jan = self.usd["cohorts"][0]
        self.assertEqual(jan["mrr"], "560.00")
        last = jan["cells"][-1]
        self.assertEqual((last["months_since"], last["active_customers"],
                          last["mrr"], last["customer_retention_pct"],
                          last["mrr_retention_pct"]),
                         (3, 6, "440.00", "75.00", "78.57"))


class K1Grace0(K1Base):
    grace = 0

    def test_no_invariant_violation(self):
        self.assertEqual(self.violations, [])

    def test_cus_e(self):
        self.assertEqual(self.usd["customer_mrr"]["cus_E"],
                         ["80.00", "0.00", "80.00", "80.00"])

    def test_only_cus_e_differs(self):
        for c, row in self.usd["customer_mrr"].items():
            if c != "cus_E":
                self.assertEqual(row, expected_mrr()[c], c)

    def test_table(self):
        feb, mar, apr = self.m["2024-02"], self.m["2024-03"], self.m["2024-04"]
        self.assertEqual((feb["mrr"], feb["customers"]), ("1230.00", 9))
        self.assertEqual(feb["movements"]["churn"], "80.00")
        self.assertEqual(feb["movement_customers"]["churn"], 1)
        self.assertEqual(feb["movements"]["new"], "700.00")
        self.assertEqual(feb["movements"]["expansion"], "50.00")
        self.assertEqual(mar["movements"]["reactivation"], "80.00")
        self.assertEqual(mar["movement_customers"]["reactivation"], 1)
        self.assertEqual(mar["movements"]["new"], "20.09")
        self.assertEqual(mar["movements"]["churn"], "20.00")
        self.assertEqual((mar["mrr"], mar["customers"]), ("1310.09", 11))
        self.assertEqual((apr["mrr"], apr["customers"]), ("1160.09", 10))
        self.assertEqual(feb["logo_churn_rate_pct"], "12.50")
        self.assertEqual(mar["quick_ratio"], "5.00")  # (20.09+80)/20

    def test_cohorts_unchanged(self):
        self.assertEqual([(c["cohort"], c["customers"])
                          for c in self.usd["cohorts"]],
                         [("2024-01", 8), ("2024-02", 2), ("2024-03", 2)])
        feb_cell = self.usd["cohorts"][0]["cells"][1]
        self.assertEqual(feb_cell["active_customers"], 7)


class Calendar(unittest.TestCase):
    def test_add_months(self):
        t = lambda *a: dt.datetime(*a, tzinfo=UTC)  # noqa: E731
        self.assertEqual(ref.add_months(t(2024, 1, 31, 10), 1),
                         t(2024, 2, 29, 10))
        self.assertEqual(ref.add_months(t(2024, 3, 31), 3), t(2024, 6, 30))
        self.assertEqual(ref.add_months(t(2024, 8, 31), 12), t(2025, 8, 31))
        self.assertEqual(ref.add_months(t(2024, 11, 30), 3), t(2025, 2, 28))

    def test_gap_days_floors(self):
        a = dt.datetime(2024, 1, 31, 10, tzinfo=UTC)
        b = dt.datetime(2024, 3, 1, 9, tzinfo=UTC)
        self.assertEqual(ref.gap_days(a, b), 29)

    def test_rounding(self):
        self.assertEqual(ref.div_half_away(1_000_000, 12), 83_333)
        self.assertEqual(ref.div_half_away(102, 12), 9)
        self.assertEqual(ref.div_half_away(-102, 12), -9)
        self.assertEqual(ref.rate_pct(1, 11), "9.09")
        self.assertEqual(ref.rate_pct(-1, 8), "-12.50")
        self.assertEqual(ref.rate_pct(1, 80000), "0.00")
        self.assertEqual(ref.rate_pct(1, 40000), "0.00")   # 0.0025 -> 0.00
        self.assertEqual(ref.rate_pct(1, 20000), "0.01")   # 0.005 -> 0.01
        self.assertEqual(ref.rate_pct(-1, 20000), "-0.01")
        self.assertEqual(ref.ratio(2009, 2000), "1.00")
        self.assertEqual(ref.ratio(2010, 2000), "1.01")  # 1.005 -> 1.01

    def test_arr_of_annual_invoice(self):
        self.assertEqual(12 * ref.div_half_away(100_000, 12), 99_996)

    def test_catalogue_hints(self):
        h = ref.catalogue_month_hint
        self.assertEqual(h(["Chat Enterprise :  36 Months"]), 36)
        self.assertEqual(h(["Feeds Enterprise : Semi-Annually"]), 6)
        self.assertEqual(h(["Video : Quarterly"]), 3)
        self.assertEqual(h(["Chat Elevate : 10k MAU"]), 1)
        self.assertEqual(h(["Video Build", "Video : Quarterly"]), 3)
        self.assertEqual(h(["1 month", "Video : Quarterly"]), 3)
        self.assertEqual(h(["Term : 3-Month"]), 3)
        self.assertEqual(h(["Chat Start : Monthly"]), 1)


class Inputs(unittest.TestCase):
    HEADER = ("Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\t"
              "Total\tCurrency\n")

    def compute(self, body, products=K1_PRODUCTS, **kw):
        with tempfile.TemporaryDirectory() as d:
            write_export(Path(d), self.HEADER + body, products, users=None)
            return run(Path(d), **kw)

    def test_duplicates_and_conflicts(self):
        body = ("1/10/24 12:00\tin_1\tcus_1\tsub_1\t100\tusd\n"
                "1/10/24 12:00\tin_1\tcus_1\tsub_1\t100.00\tUSD\n"
                "1/11/24 12:00\tin_2\tcus_2\tsub_2\t100\tusd\n"
                "1/11/24 12:00\tin_2\tcus_2\tsub_2\t101\tusd\n"
                "1/11/24 12:00\tin_2\tcus_2\tsub_2\t100\tusd\n"
                "3/5/24 1:00\tin_3\tcus_3\t\t5\tusd\n")
        out, v = self.compute(body)
        self.assertEqual(v, [])
        self.assertEqual(out["input"]["duplicates"], 1)
        self.assertEqual(out["input"]["rejected"],
                         {"conflicting_duplicate": 3})
        jan = out["currencies"]["usd"]["months"][0]
        self.assertEqual((jan["mrr"], jan["customers"]), ("100.00", 1))

    def test_rejections(self):
        body = ("1/10/24 12:00\tin_1\tcus_1\tsub_1\t100\tusd\n"
                "13/10/24 12:00\tin_2\tcus_1\tsub_1\t100\tusd\n"
                "1/10/24 12:00\tin_3\tcus_1\tsub_1\t1.001\tusd\n"
                "1/10/24 12:00\tin_4\tcus_1\tsub_1\t1,000\tusd\n"
                "1/10/24 12:00\tin_5\tcus_1\tsub_1\t10\txau\n"
                "1/10/24 12:00\t\tcus_1\tsub_1\t10\tusd\n"
                "1/10/99 12:00\tin_6\tcus_1\tsub_1\t10\tusd\n"
                "3/5/24 1:00\tin_7\tcus_3\t\t5\tusd\n")
        out, _ = self.compute(body)
        self.assertEqual(out["input"]["rejected"], {
            "invalid_date": 1, "too_many_decimals": 1, "invalid_amount": 1,
            "unknown_currency": 1, "empty_transaction_id": 1,
            "implausible_date": 1})
        self.assertEqual(out["input"]["loaded"], 2)

    def test_minor_units(self):
        body = ("1/10/24 12:00\tin_1\tcus_1\tsub_1\t1500\tJPY\n"
                "1/10/24 12:00\tin_2\tcus_2\tsub_2\t12.345\tkwd\n"
                "1/10/24 12:00\tin_3\tcus_3\tsub_3\t1500.00\tjpy\n"
                "1/10/24 12:00\tin_4\tcus_4\tsub_4\t1500.5\tjpy\n"
                "3/5/24 1:00\tin_9\tcus_9\t\t5\tusd\n")
        out, v = self.compute(body)
        self.assertEqual(v, [])
        self.assertEqual(out["input"]["rejected"], {"too_many_decimals": 1})
        jpy = out["currencies"]["jpy"]["months"][0]
        self.assertEqual((jpy["mrr"], jpy["customers"], jpy["arpa"]),
                         ("3000", 2, "1500"))
        kwd = out["currencies"]["kwd"]["months"][0]
        self.assertEqual(kwd["mrr"], "12.345")
        # assumed annual in jpy: 3,000 yen and more.
        body = ("1/10/24 12:00\tin_1\tcus_1\tsub_1\t3000\tjpy\n"
                "1/10/24 12:00\tin_2\tcus_2\tsub_2\t2999\tjpy\n"
                "3/5/24 1:00\tin_9\tcus_9\t\t5\tusd\n")
        out, _ = self.compute(body)
        src = out["currencies"]["jpy"]["months"][0]["mrr_by_interval_source"]
        self.assertEqual((src["assumed_annual"], src["assumed_monthly"]),
                         ("250", "2999"))

    def test_iso_dates_and_ordering(self):
        # Two invoices of one subscription in one minute: the later
        # (timestamp, id) wins; ids compare bytewise ("B" < "a").
        body = ("2024-01-10T12:00:00Z\tin_a\tcus_1\tsub_1\t100\tusd\n"
                "2024-01-10 13:00:00+01:00\tin_B\tcus_1\tsub_1\t300\tusd\n"
                "2024-01-10T12:00:30.5Z\tin_c\tcus_2\tsub_2\t100\tusd\n"
                "2024-01-10T12:00:30.5Z\tin_d\tcus_2\tsub_2\t200\tusd\n"
                "3/5/24 1:00\tin_9\tcus_9\t\t5\tusd\n")
        out, v = self.compute(body, want_customer_mrr=True)
        self.assertEqual(v, [])
        mrr = out["currencies"]["usd"]["customer_mrr"]
        self.assertEqual(mrr["cus_1"][0], "100.00")  # in_a sorts after in_B
        self.assertEqual(mrr["cus_2"][0], "200.00")

    def test_superseded_then_older_applies_again(self):
        # Annual 12,000 in January, an extra 50 charge in March (single,
        # monthly, no band): the extra one covers the Mar close, then the
        # annual invoice applies again.
        products = K1_PRODUCTS + "sub_Y\tp\tX : Annually\tyear\t1\tactive\n"
        body = ("1/10/24 12:00\tin_1\tcus_1\tsub_Y\t12000\tusd\n"
                "3/20/24 12:00\tin_2\tcus_1\tsub_Y\t50\tusd\n"
                "7/5/24 1:00\tin_9\tcus_9\t\t5\tusd\n")
        out, v = self.compute(body, products=products,
                              want_customer_mrr=True, want_invoices=True)
        self.assertEqual(v, [])
        # in_2's interval: no next, catalogue says year -> 12 as well.
        invs = out["currencies"]["usd"]["invoices"]
        self.assertEqual([(i["interval_months"], i["interval_source"])
                          for i in invs],
                         [(12, "catalogue_year"), (12, "catalogue_year")])
        body = ("1/10/24 12:00\tin_1\tcus_1\tsub_X\t12000\tusd\n"
                "3/20/24 12:00\tin_2\tcus_1\tsub_X\t50\tusd\n"
                "7/5/24 1:00\tin_9\tcus_9\t\t5\tusd\n")
        out, v = self.compute(body, want_customer_mrr=True)
        self.assertEqual(v, [])
        self.assertEqual(out["currencies"]["usd"]["customer_mrr"]["cus_1"],
                         ["1000.00", "1000.00", "50.00", "1000.00",
                          "1000.00", "1000.00"])

    def test_cli_exit_status(self):
        with tempfile.TemporaryDirectory() as d:
            write_export(Path(d), K1_TRANSACTIONS)
            buf = io.StringIO()
            with redirect_stdout(buf):
                rc = ref.main([d, "--currency", "eur", "--now",
                               "2024-10-05T00:00:00Z"])
            self.assertEqual(rc, 0)
            out = json.loads(buf.getvalue())
            self.assertEqual(list(out["currencies"]), ["eur"])
            self.assertEqual(out["window"]["closed_months"][-1], "2024-04")

    def test_zero_mrr_invoice_is_a_violation(self):
        # 0.05/yr rounds to 0 cents of MRR: the customer is not active at
        # the close of the invoice's month; §13 names that as a violation.
        products = K1_PRODUCTS + "sub_T\tp\tT : Annually\tyear\t1\tactive\n"
        body = ("1/10/24 12:00\tin_1\tcus_1\tsub_T\t0.05\tusd\n"
                "3/5/24 1:00\tin_9\tcus_9\t\t5\tusd\n")
        _, v = self.compute(body, products=products)
        self.assertEqual(len(v), 1)
        self.assertIn("not active", v[0])


@unittest.skipUnless((REAL_EXPORT / "transactions.csv").exists(),
                     "real export not on this machine")
class RealExport(unittest.TestCase):
    """Figures the spec states for the real export (§5 table, §6 table,
    §14) that this implementation reproduces."""

    @classmethod
    def setUpClass(cls):
        loaded = ref.load_export(REAL_EXPORT,
                                 now=dt.datetime(2024, 10, 5, tzinfo=UTC))
        cls.loaded = loaded
        cls.runs = {}

    def usd(self, grace=7, threshold="3000.00"):
        key = (grace, threshold)
        if key not in self.runs:
            out, v = ref.compute(self.loaded, grace, Decimal(threshold), "usd")
            self.assertEqual(v, [])
            self.runs[key] = out["currencies"]["usd"]
        return self.runs[key]

    def test_input_counts(self):
        self.assertEqual(self.loaded.stats["loaded"], 12870)

    def test_september_grace_7(self):
        months = self.usd()["months"]
        sep = months[-1]
        self.assertEqual(sep["month"], "2024-09")
        self.assertEqual(sep["mrr"], "1809459.58")
        self.assertEqual(months[0]["mrr"], "922879.82")
        src = sep["mrr_by_interval_source"]
        self.assertEqual(src["assumed_annual"], "382487.25")
        self.assertEqual(src["assumed_monthly"], "9039.74")
        churn = sum(Decimal(m["movements"]["churn"]) for m in months[1:])
        self.assertEqual(churn, Decimal("199159.11"))
        self.assertEqual(len(months), 9)

    def test_grace_table(self):
        # grace: churn events, reactivations, churned MRR, MRR at Sep close
        expected = {0: (275, 20, "211868.38", "1806577.85"),
                    1: (272, 18, "206266.16", "1807910.18"),
                    3: (268, 14, "200150.51", "1808409.18"),
                    7: (266, 14, "199159.11", "1809459.58"),
                    14: (262, 13, "196464.01", "1817103.25"),
                    30: (232, 5, "173346.34", "1835373.05")}
        for grace, row in expected.items():
            months = self.usd(grace)["months"]
            got = (sum(m["movement_customers"]["churn"] for m in months[1:]),
                   sum(m["movement_customers"]["reactivation"]
                       for m in months[1:]),
                   str(sum(Decimal(m["movements"]["churn"])
                           for m in months[1:])),
                   months[-1]["mrr"])
            self.assertEqual(got, row, f"grace {grace}")

    def test_threshold_table_churn(self):
        expected = {"0": "154854.07", "2000": "190769.68",
                    "5000": "259026.13", "10000": "355588.35",
                    "10000000000": "3909153.75"}
        for threshold, churn in expected.items():
            months = self.usd(7, threshold)["months"]
            self.assertEqual(str(sum(Decimal(m["movements"]["churn"])
                                     for m in months[1:])), churn, threshold)

    def test_splits_of_section_14(self):
        months = self.usd()["months"]
        by_k = lambda i, k: months[i]["mrr_by_interval_months"][k]  # noqa
        self.assertEqual((by_k(0, "1"), by_k(8, "1")),
                         ("697286.27", "699350.53"))
        self.assertEqual((by_k(0, "3"), by_k(3, "3"), by_k(8, "3")),
                         ("147067.43", "521203.28", "582194.98"))
        self.assertEqual((by_k(0, "12"), by_k(8, "12")),
                         ("73776.12", "503839.97"))
        self.assertTrue(all(m["nrr_12m_pct"] is None for m in months))


if __name__ == "__main__":
    unittest.main()
