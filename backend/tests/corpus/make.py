#!/usr/bin/env python3
"""Writes the malformed-input corpus (backend/tests/corpus/<case>/).

Each case holds the files it replaces in the base export (`_base/`) and an
`expect.json`: the run's status, a text its message must contain, and per
file the counts (and rejection reasons) the run must report. The test
(tests/api/corpus.rs) runs every case on SQLite and PostgreSQL after loading
the base, and checks besides that every physical line of every file is
accounted for, and that a refused or failed run left the base data intact.

The files are committed; this script documents how they were made:
    python3 backend/tests/corpus/make.py
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
P_HEAD = "subscription ID\tPlan\tProduct\tInterval\tAmount\tStatus"
T_HEAD = "Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency"
U_HEAD = "Customer ID\tCustomer Name\tCustomer Email"

BASE_P = ["sub_1\tBase\tAlpha\tmonth\t100\tactive", "sub_2\tPro\tBeta\tyear\t1200\tactive",
          "sub_2\tPro - Support\tBeta Support\tyear\t120\tactive"]
BASE_T = [f"{m}/{d}/24 7:{d:02d}\tt_{m}_{d}\tc{(m * d) % 7}\tsub_{1 + (d % 2)}\t{m * 10 + d}.{d:02d}\tusd"
          for m in range(1, 7) for d in (3, 14, 25)]
BASE_U = [f"c{i}\tName {i}\tc{i}@example.test" for i in range(7)]


def text(header, rows, eol="\r\n", trailing=True):
    body = eol.join([header] + rows)
    return body + (eol if trailing else "")


def write(case, files, expect):
    d = os.path.join(HERE, case)
    os.makedirs(d, exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    with open(os.path.join(d, "expect.json"), "w") as f:
        json.dump(expect, f, indent=2, ensure_ascii=False)
        f.write("\n")


def counts(read, loaded, rejected=0, duplicates=0, reasons=None):
    c = {"read": read, "loaded": loaded, "duplicates": duplicates, "rejected": rejected}
    if reasons:
        c["reasons"] = reasons
    return c


def tx(rows, **kw):
    return text(T_HEAD, rows, **kw)


GOOD = ["1/5/24 7:00\tn1\tc1\tsub_1\t10.00\tusd", "1/6/24 7:00\tn2\tc2\t\t20.00\tusd",
        "1/7/24 7:00\tn3\tc3\tsub_2\t30.00\tusd", "1/8/24 7:00\tn4\tc4\tsub_1\t40.00\tusd"]


def main():
    for entry in os.listdir(HERE):
        if os.path.isdir(os.path.join(HERE, entry)):
            shutil.rmtree(os.path.join(HERE, entry))
    write("_base", {"products.csv": text(P_HEAD, BASE_P), "transactions.csv": tx(BASE_T),
                    "users.csv": text(U_HEAD, BASE_U)}, {"why": "the data every case starts from"})

    def tx_case(name, why, rows, expect_tx, status="succeeded", message=None, raw=None, **extra):
        files = {"transactions.csv": raw if raw is not None else tx(rows)}
        e = {"why": why, "status": status, "transactions.csv": expect_tx}
        if message:
            e["message"] = message
        e.update(extra)
        write(name, files, e)

    # Quotes: one bad quote costs its line, never the rest of the file.
    tx_case("quote_unclosed_first_row", "an unclosed quote in row 1 of transactions.csv",
            ['1/5/24 7:00\t"n1\tc1\tsub_1\t10.00\tusd'] + GOOD[1:],
            counts(4, 3, 1, reasons={"unclosed_quote": 1}))
    tx_case("quote_unclosed_mid_file", "the same quote in the middle of the file",
            GOOD[:2] + ['1/9/24 7:00\tn9\tc1\t"sub_1\t10.00\tusd'] + GOOD[2:],
            counts(5, 4, 1, reasons={"unclosed_quote": 1}))
    tx_case("quote_text_after_close", "text after a closing quote",
            GOOD[:2] + ['1/9/24 7:00\t"n9"x\tc1\tsub_1\t10.00\tusd'],
            counts(3, 2, 1, reasons={"malformed_quote": 1}))
    tx_case("quote_escaped", "quoted fields with tabs and doubled quotes are read",
            GOOD[:1] + ['1/9/24 7:00\t"n""9"\tc1\t"sub_1"\t"10.00"\tusd'],
            counts(2, 2))
    tx_case("quote_literal_inside", "a quote inside a field (not at its start) is text",
            ['1/9/24 7:00\tn"9\tc1\tsub_1\t10.00\tusd'] + GOOD[1:], counts(4, 4))
    write("quote_users_name", {"users.csv": text(U_HEAD, BASE_U[:3] + ['c3\t"Nano\tnano@example.test'] + BASE_U[4:])},
          {"why": "a customer name starting with a quote", "status": "succeeded",
           "users.csv": counts(7, 6, 1, reasons={"unclosed_quote": 1})})

    # Line endings.
    tx_case("eol_cr_only", "CR-only line endings are read as lines", None, counts(4, 4),
            raw=tx(GOOD, eol="\r"))
    tx_case("eol_lf", "LF line endings", None, counts(4, 4), raw=tx(GOOD, eol="\n"))
    tx_case("eol_mixed", "CRLF and LF mixed", None, counts(4, 4),
            raw=T_HEAD + "\r\n" + GOOD[0] + "\n" + GOOD[1] + "\r\n" + GOOD[2] + "\n" + GOOD[3])
    tx_case("eol_no_final_newline", "no newline after the last row", None, counts(4, 4),
            raw=tx(GOOD, trailing=False))
    tx_case("blank_lines", "blank and whitespace-only lines are not rows", None, counts(4, 4),
            raw=T_HEAD + "\r\n" + GOOD[0] + "\r\n\r\n" + GOOD[1] + "\r\n \t \r\n" + GOOD[2] + "\r\n" + GOOD[3] + "\r\n\r\n\r\n")

    # Empty and header-only files.
    tx_case("header_only", "a transactions.csv with only its header", [], {"read": 0}, status="refused",
            message="no data rows")
    tx_case("header_and_blank_lines", "a header and blank lines only", None, {"read": 0}, status="refused",
            message="no data rows", raw=T_HEAD + "\r\n\r\n  \r\n")
    tx_case("empty_file", "a zero-byte transactions.csv", None, {}, status="failed", message="the file is empty",
            raw=b"")
    tx_case("bom_only", "a file with only a UTF-8 BOM", None, {}, status="failed", message="the file is empty",
            raw=b"\xef\xbb\xbf")
    tx_case("bom_header", "a BOM before the header is stripped", None, counts(4, 4),
            raw=b"\xef\xbb\xbf" + tx(GOOD).encode())

    # Encodings.
    tx_case("utf16", "a UTF-16 export", None, {}, status="failed", message="UTF-16",
            raw=b"\xff\xfe" + tx(GOOD).encode("utf-16-le"))
    tx_case("latin1_field", "a Latin-1 byte in one row", None, counts(4, 3, 1, reasons={"invalid_utf8": 1}),
            raw=tx(GOOD[:3]).encode() + "1/9/24 7:00\tn9\tc\xe91\tsub_1\t1.00\tusd".encode("latin-1"))
    tx_case("nul_byte", "a NUL byte in a field", None, counts(4, 3, 1, reasons={"nul_byte": 1}),
            raw=tx(GOOD[:3]) + "1/9/24 7:00\tn9\tc\x001\tsub_1\t1.00\tusd")

    # Delimiters and headers.
    tx_case("comma_delimited", "a comma-separated export", None, counts(4, 4),
            raw=tx([r.replace("\t", ",") for r in GOOD]).replace("\t", ","))
    tx_case("semicolon_delimited", "a semicolon-separated export", None, counts(4, 4),
            raw=tx([r.replace("\t", ";") for r in GOOD]).replace("\t", ";"))
    tx_case("rows_wrong_delimiter", "a tab header over comma-separated rows: every row refused", None,
            counts(4, 0, 4, reasons={"missing_field": 4}), status="refused", message="more than --max-reject-pct",
            raw=T_HEAD + "\r\n" + "\r\n".join(r.replace("\t", ",") for r in GOOD), max_reject_pct="5")
    tx_case("pipe_delimited", "a pipe-separated export: its header names no known column", None, {},
            status="failed", message="missing column",
            raw=tx([r.replace("\t", "|") for r in GOOD]).replace("\t", "|"))
    tx_case("missing_column", "no Currency column", None, {}, status="failed", message="\"Currency\"",
            raw="\r\n".join(["\t".join(T_HEAD.split("\t")[:5])] + ["\t".join(r.split("\t")[:5]) for r in GOOD]))
    tx_case("extra_and_reordered_columns", "columns in another order, plus one more", None, counts(4, 4),
            raw="\r\n".join(["Currency\tNote\tTotal\tsubscription_id\tCUSTOMER ID\ttransaction-id\tdate"] +
                            ["\t".join([f[5], "x", f[4], f[3], f[2], f[1], f[0]]) for f in (r.split("\t") for r in GOOD)]))
    tx_case("short_row", "a row with fewer fields than the header",
            GOOD[:3] + ["1/9/24 7:00\tn9\tc1"], counts(4, 3, 1, reasons={"missing_field": 1}))

    # Amounts.
    tx_case("amount_three_decimals", "three decimals in a currency of two (usd)",
            GOOD[:3] + ["1/9/24 7:00\tn9\tc1\t\t1.001\tusd"],
            counts(4, 3, 1, reasons={"too_many_decimals": 1}))
    tx_case("amount_minor_units", "each currency's ISO 4217 minor unit: whole yen, thousandths of a dinar",
            GOOD[:2] + ["1/9/24 7:00\tn5\tc1\t\t1500\tjpy", "1/9/24 7:01\tn6\tc1\t\t1500.00\tJPY",
                        "1/9/24 7:02\tn7\tc2\t\t1500.50\tjpy", "1/9/24 7:03\tn8\tc2\t\t12.345\tkwd",
                        "1/9/24 7:04\tn9\tc3\t\t12.3456\tkwd", "1/9/24 7:05\tn10\tc3\t\t0.125\tbhd"],
            counts(8, 6, 2, reasons={"too_many_decimals": 2}))
    tx_case("amount_thousands_separator", "a thousands separator", GOOD[:3] + ["1/9/24 7:00\tn9\tc1\t\t1,000.00\tusd"],
            counts(4, 3, 1, reasons={"invalid_amount": 1}))
    tx_case("amount_exponent", "scientific notation", GOOD[:3] + ["1/9/24 7:00\tn9\tc1\t\t1e5\tusd"],
            counts(4, 3, 1, reasons={"invalid_amount": 1}))
    tx_case("amount_too_large", "an amount beyond 64-bit minor units", GOOD[:3] + ["1/9/24 7:00\tn9\tc1\t\t99999999999999999999\tusd"],
            counts(4, 3, 1, reasons={"invalid_amount": 1}))
    tx_case("amount_sum_overflow", "two amounts whose sum does not fit 64-bit minor units",
            ["1/9/24 7:00\tn8\tc1\t\t90000000000000000\tusd", "1/9/24 8:00\tn9\tc2\t\t90000000000000000\tusd"],
            {}, status="failed", message="exceeds the range of 64-bit minor units")
    tx_case("amount_gross_overflow", "amounts that fit each month but not summed over months",
            ["1/9/24 7:00\tn8\tc1\t\t90000000000000000\tusd", "2/9/24 7:00\tn9\tc2\t\t-90000000000000000\tusd"],
            {}, status="failed", message="64-bit minor units")
    tx_case("amount_refund_and_zero", "refunds and zero amounts are loaded",
            GOOD[:2] + ["1/9/24 7:00\tn8\tc1\t\t-5.50\tusd", "1/9/24 8:00\tn9\tc2\t\t0\tusd", "1/9/24 9:00\tn10\tc2\t\t-0.00\tusd"],
            counts(5, 5))

    # Currencies.
    tx_case("currency_case", "currency codes in any case", [r.replace("usd", "USD") for r in GOOD[:2]] + GOOD[2:],
            counts(4, 4))
    tx_case("currency_unknown", "an unknown currency", GOOD[:3] + ["1/9/24 7:00\tn9\tc1\t\t1.00\txxx"],
            counts(4, 3, 1, reasons={"unknown_currency": 1}))

    # Dates.
    tx_case("date_far_future", "9999-12-31T23:59:59Z", GOOD[:3] + ["9999-12-31T23:59:59Z\tn9\tc1\t\t1.00\tusd"],
            counts(4, 3, 1, reasons={"implausible_date": 1}))
    tx_case("date_year_zero", "1/1/0000 0:00", GOOD[:3] + ["1/1/0000 0:00\tn9\tc1\t\t1.00\tusd"],
            counts(4, 3, 1, reasons={"implausible_date": 1}))
    tx_case("date_two_digit_99", "12/31/99 would be 2099", GOOD[:3] + ["12/31/99 7:00\tn9\tc1\t\t1.00\tusd"],
            counts(4, 3, 1, reasons={"implausible_date": 1}))
    tx_case("date_invalid_day", "February 30th", GOOD[:3] + ["2/30/24 7:00\tn9\tc1\t\t1.00\tusd"],
            counts(4, 3, 1, reasons={"invalid_date": 1}))
    tx_case("date_offset", "a +14:00 offset is converted to UTC", GOOD[:3] + ["2024-01-10T01:00:00+14:00\tn9\tc1\t\t1.00\tusd"],
            counts(4, 4))
    tx_case("date_words", "a date in words", GOOD[:3] + ["yesterday\tn9\tc1\t\t1.00\tusd"],
            counts(4, 3, 1, reasons={"invalid_date": 1}))

    # Ids.
    tx_case("id_too_long", "a 300-byte customer id", GOOD[:3] + ["1/9/24 7:00\tn9\t" + "c" * 300 + "\t\t1.00\tusd"],
            counts(4, 3, 1, reasons={"id_too_long": 1}))
    tx_case("id_past_index_limit", "a 3,000-byte transaction id (PostgreSQL cannot index it)",
            GOOD[:3] + ["1/9/24 7:00\t" + "t" * 3000 + "\tc1\t\t1.00\tusd"],
            counts(4, 3, 1, reasons={"id_too_long": 1}))
    tx_case("id_empty", "empty ids", GOOD[:2] + ["1/9/24 7:00\t\tc1\t\t1.00\tusd", "1/9/24 7:00\tn9\t\t\t1.00\tusd"],
            counts(4, 2, 2, reasons={"empty_transaction_id": 1, "empty_customer_id": 1}))

    # Repeats.
    tx_case("duplicate_rows", "identical rows", GOOD + [GOOD[0], GOOD[0]], counts(6, 4, duplicates=2))
    tx_case("conflicting_ids", "one id, two contents: both rejected", GOOD[:2] + [GOOD[0].replace("10.00", "11.00")],
            counts(3, 1, 2, reasons={"conflicting_duplicate": 2}))

    # Guard rails.
    tx_case("all_rejected", "every date malformed: refused", [r.replace("/24 ", "/2x ") for r in GOOD],
            counts(4, 0, 4, reasons={"invalid_date": 4}), status="refused", message="more than --max-reject-pct",
            max_reject_pct="5")
    tx_case("reject_limit_exceeded", "1 row of 16 rejected is over a 5% limit",
            GOOD * 1 + [f"1/{d}/24 7:00\tx{d}\tc1\t\t1.00\tusd" for d in range(10, 21)] + ["junk\tbad\tc1\t\t1\tusd"],
            counts(16, 15, 1, reasons={"invalid_date": 1}), status="refused", message="6.25%", max_reject_pct="5")
    tx_case("reject_limit_met", "1 row of 20 rejected is exactly 5%",
            GOOD + [f"1/{d}/24 7:00\tx{d}\tc1\t\t1.00\tusd" for d in range(10, 25)] + ["junk\tbad\tc1\t\t1\tusd"],
            counts(20, 19, 1, reasons={"invalid_date": 1}), max_reject_pct="5")

    # The other files.
    write("products_bad_rows", {"products.csv": text(P_HEAD, BASE_P + ["sub_3\t\tGamma\tmonth\t5\tactive",
                                                                       "sub_3\tX\tGamma\tmonth\t-5\tactive",
                                                                       "\tY\tGamma\tmonth\t5\tactive"])},
          {"why": "products with an empty plan, a negative amount, an empty subscription", "status": "succeeded",
           "products.csv": counts(6, 3, 3, reasons={"empty_plan": 1, "invalid_amount": 1, "empty_subscription_id": 1})})
    write("products_plan_decimals", {"products.csv": text(P_HEAD, BASE_P + ["sub_4\tDinar\tDelta\tmonth\t12.345\tactive",
                                                                            "sub_4\tFine\tDelta\tmonth\t1.2345\tactive"])},
          {"why": "plan amounts (no currency named) keep three decimals, the most any currency has", "status": "succeeded",
           "products.csv": counts(5, 4, 1, reasons={"too_many_decimals": 1})})
    write("users_conflicts", {"users.csv": text(U_HEAD, BASE_U + ["c1\tOther Name\tc1@example.test", "c1\t\t", "\tNo Id\tx@example.test"])},
          {"why": "repeated customers with another name, an empty row, a row without id", "status": "succeeded",
           "users.csv": counts(10, 7, 1, duplicates=2, reasons={"empty_customer_id": 1})})
    write("users_header_spaces", {"users.csv": text("\ufeff  customer_id \t NAME\tE-Mail Address", BASE_U)},
          {"why": "header names with spaces, case and punctuation", "status": "succeeded", "users.csv": counts(7, 7)})
    print("wrote", len([e for e in os.listdir(HERE) if os.path.isdir(os.path.join(HERE, e))]) - 1, "cases")


if __name__ == "__main__":
    main()
