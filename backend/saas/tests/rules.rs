//! One test per rule of shared/specs/saas-metrics.md, on small hand-made inputs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_types::{Currency, Money, SaasMovementKind};
use chrono::{DateTime, TimeZone, Utc};
use saas::{compute, Catalogue, CurrencyFigures, Interval, Invoice, Parameters, SaasError, SaasFigures};

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// An invoice of `cents` (usd unless the id says `eur:`/`jpy:` as currency prefix of the customer).
fn inv(t: DateTime<Utc>, id: &str, customer: &str, sub: &str, minor: i64) -> Invoice {
    let (currency, exponent) = match customer.split_once(':') {
        Some(("eur", _)) => ("eur", 2),
        Some(("jpy", _)) => ("jpy", 0),
        _ => ("usd", 2),
    };
    Invoice {
        timestamp: t,
        transaction_id: id.into(),
        customer_id: customer.rsplit(':').next().unwrap().into(),
        subscription_id: sub.into(),
        currency: currency.into(),
        amount: Money::new(minor, exponent),
    }
}

/// Monthly invoices on day `day` of months `from..=to` of 2024.
fn ym(text: &str) -> api_types::Month {
    api_types::Month::parse(text).unwrap()
}

fn monthly(customer: &str, sub: &str, from: u32, to: u32, day: u32, minor: i64) -> Vec<Invoice> {
    (from..=to)
        .map(|m| {
            inv(
                at(2024, m, day, 12, 0),
                &format!("in_{customer}_{sub}_{m}"),
                customer,
                sub,
                minor,
            )
        })
        .collect()
}

/// A transaction that only sets the window's end (closes every month before `month`).
fn end_marker(month: u32) -> Invoice {
    inv(at(2024, month, 1, 0, 0), "in_zz_end", "cus_zz_end", "", 100)
}

fn run(invoices: &[Invoice], catalogue: &Catalogue, params: &Parameters) -> SaasFigures {
    compute(invoices, catalogue, params).unwrap()
}

fn usd(f: &SaasFigures) -> &CurrencyFigures {
    f.currency(code("usd")).unwrap()
}

fn row(c: &CurrencyFigures, customer: &str) -> Vec<i64> {
    c.customer_mrr(customer)
        .map(<[i64]>::to_vec)
        .unwrap_or_else(|| vec![0; c.months().len()])
}

fn source(c: &CurrencyFigures, m: usize) -> [i64; 6] {
    let s = &c.months()[m].mrr_by_interval_source;
    [
        s.observed_next,
        s.catalogue_year,
        s.observed_previous,
        s.catalogue_month,
        s.assumed_annual,
        s.assumed_monthly,
    ]
    .map(Money::minor)
}

#[test]
fn interval_from_observed_cadence_next_then_previous() {
    // Quarterly by gap: Jan 5, Apr 5 (91 days); the last invoice takes the previous gap.
    let mut v = vec![
        inv(at(2024, 1, 5, 8, 0), "d1", "cus_D", "sub_D", 30_000),
        inv(at(2024, 4, 5, 8, 0), "d2", "cus_D", "sub_D", 30_000),
    ];
    v.push(end_marker(9));
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    let c = usd(&f);
    // Jan..Jun closes covered (Apr 5 + 3 months = Jul 5), July not.
    assert_eq!(row(c, "cus_D"), [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 0, 0]);
    assert_eq!(source(c, 0), [10_000, 0, 0, 0, 0, 0]);
    assert_eq!(source(c, 4), [0, 0, 10_000, 0, 0, 0]);
    assert_eq!(
        c.months()[0].mrr_by_interval_months.keys().copied().collect::<Vec<_>>(),
        [3]
    );
}

#[test]
fn catalogue_year_outranks_the_previous_cadence_but_not_the_next() {
    // Monthly $499 then a $4,788 invoice on a `year` plan: an upgrade to annual.
    let mut v = monthly("cus_U", "sub_U", 1, 3, 10, 49_900);
    v.push(inv(at(2024, 4, 10, 12, 0), "u4", "cus_U", "sub_U", 478_800));
    v.push(end_marker(7));
    let mut cat = Catalogue::new();
    cat.add_item("sub_U", Interval::Year, "Chat : Annually");
    let f = run(&v, &cat, &Parameters::default());
    let c = usd(&f);
    assert_eq!(row(c, "cus_U"), [49_900, 49_900, 49_900, 39_900, 39_900, 39_900]);
    assert_eq!(source(c, 3), [0, 39_900, 0, 0, 0, 0]);
    assert_eq!(source(c, 0), [49_900, 0, 0, 0, 0, 0]);
}

#[test]
fn catalogue_month_uses_the_name_hint_after_the_previous_cadence() {
    let mut cat = Catalogue::new();
    cat.add_item("sub_M", Interval::Month, "Video : Quarterly");
    cat.add_item("sub_E", Interval::Month, "Chat Elevate : 10k MAU");
    let v = vec![
        inv(at(2024, 2, 10, 11, 0), "m1", "cus_M", "sub_M", 60_000),
        // Billed every 3 months although the catalogue says `month` with no hint.
        inv(at(2024, 1, 3, 0, 0), "e1", "cus_E", "sub_E", 90_000),
        inv(at(2024, 4, 2, 0, 0), "e2", "cus_E", "sub_E", 90_000),
        end_marker(8),
    ];
    let f = run(&v, &cat, &Parameters::default());
    let c = usd(&f);
    assert_eq!(row(c, "cus_M"), [0, 20_000, 20_000, 20_000, 0, 0, 0]);
    assert_eq!(row(c, "cus_E"), [30_000; 6].into_iter().chain([0]).collect::<Vec<_>>());
    assert_eq!(source(c, 1)[3], 20_000, "catalogue_month");
    assert_eq!(source(c, 4)[2], 30_000, "observed_previous beats the catalogue's month");
}

#[test]
fn assumed_annual_at_the_threshold_and_monthly_below() {
    let v = vec![
        inv(at(2024, 1, 20, 0, 0), "a", "cus_A", "sub_A", 300_000),
        inv(at(2024, 1, 20, 0, 0), "b", "cus_B", "sub_B", 299_999),
        end_marker(4),
    ];
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    let c = usd(&f);
    assert_eq!(row(c, "cus_A"), [25_000, 25_000, 25_000]);
    assert_eq!(row(c, "cus_B"), [299_999, 0, 0]);
    assert_eq!(source(c, 0), [0, 0, 0, 0, 25_000, 299_999]);
    // A lower threshold makes B annual too: 2,999.99 / 12 = 250.00 (249.999…).
    let params = Parameters {
        annual_threshold: Money::new(2_000, 0),
        ..Parameters::default()
    };
    let f = run(&v, &Catalogue::new(), &params);
    assert_eq!(row(usd(&f), "cus_B"), [25_000, 25_000, 25_000]);
}

#[test]
fn mrr_rounds_half_up_once_per_invoice() {
    let mut cat = Catalogue::new();
    cat.add_item("sub_J", Interval::Year, "Tiny");
    cat.add_item("sub_K", Interval::Year, "Big");
    let v = vec![
        inv(at(2024, 1, 15, 0, 0), "j", "cus_J", "sub_J", 102),
        inv(at(2024, 1, 15, 0, 0), "k", "cus_K", "sub_K", 1_000_000),
        end_marker(3),
    ];
    let f = run(&v, &cat, &Parameters::default());
    let c = usd(&f);
    assert_eq!(row(c, "cus_J"), [9, 9]);
    assert_eq!(row(c, "cus_K"), [83_333, 83_333]);
    // ARR = 12 × MRR exactly: a $10,000/yr contract shows 9,999.96.
    assert_eq!(c.months()[0].arr.to_string(), (Money::new(12 * 83_342, 2)).to_string());
}

#[test]
fn threshold_is_applied_in_each_currency_major_unit() {
    let v = vec![
        inv(at(2024, 1, 20, 0, 0), "y", "jpy:cus_Y", "sub_Y", 3_000),
        inv(at(2024, 1, 20, 0, 0), "e", "eur:cus_E", "sub_E", 300_000),
        end_marker(3),
    ];
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    assert_eq!(row(f.currency(code("jpy")).unwrap(), "cus_Y"), [250, 250]);
    assert_eq!(row(f.currency(code("eur")).unwrap(), "cus_E"), [25_000, 25_000]);
    assert_eq!(f.currency(code("jpy")).unwrap().months()[0].mrr.to_string(), "250");
    // 2999.99 in yen is compared exactly: 3,000 yen is at or above it, 2,999 is not.
    let params = Parameters {
        annual_threshold: Money::new(299_999, 2),
        ..Parameters::default()
    };
    let mut v2 = v.clone();
    v2.push(inv(at(2024, 1, 20, 0, 0), "z", "jpy:cus_Z", "sub_Z", 2_999));
    let f = run(&v2, &Catalogue::new(), &params);
    assert_eq!(row(f.currency(code("jpy")).unwrap(), "cus_Y"), [250, 250]);
    assert_eq!(row(f.currency(code("jpy")).unwrap(), "cus_Z"), [2_999, 0]);
    // A threshold with more decimals than usd: 1.005 usd makes 1.01 annual, not 1.00.
    let params = Parameters {
        annual_threshold: Money::new(1_005, 3),
        ..Parameters::default()
    };
    let v3 = vec![
        inv(at(2024, 1, 20, 0, 0), "a", "cus_A", "sub_A", 1_200),
        inv(at(2024, 1, 20, 0, 0), "b", "cus_B", "sub_B", 100),
        inv(at(2024, 1, 20, 0, 0), "c", "cus_C", "sub_C", 101),
        end_marker(3),
    ];
    let f = run(&v3, &Catalogue::new(), &params);
    assert_eq!(row(usd(&f), "cus_A"), [100, 100]);
    assert_eq!(row(usd(&f), "cus_B"), [100, 0]);
    assert_eq!(row(usd(&f), "cus_C"), [8, 8]);
    let params = Parameters {
        annual_threshold: Money::new(-1, 2),
        ..Parameters::default()
    };
    let err = compute(&v, &Catalogue::new(), &params).unwrap_err();
    assert!(matches!(err, SaasError::NegativeThreshold { .. }) && err.is_bad_request());
}

#[test]
fn grace_keeps_a_late_renewal_continuous() {
    // Period Jan 31 10:00 → Feb 29 10:00; renewal Mar 1 09:00 (0.96 days late).
    let v = vec![
        inv(at(2024, 1, 31, 10, 0), "e1", "cus_E", "sub_E", 8_000),
        inv(at(2024, 3, 1, 9, 0), "e2", "cus_E", "sub_E", 8_000),
        inv(at(2024, 4, 1, 9, 0), "e3", "cus_E", "sub_E", 8_000),
        end_marker(5),
    ];
    for (grace, expected) in [(0, [8_000, 0, 8_000, 8_000]), (1, [8_000; 4]), (7, [8_000; 4])] {
        let params = Parameters {
            grace_days: grace,
            ..Parameters::default()
        };
        let f = run(&v, &Catalogue::new(), &params);
        assert_eq!(row(usd(&f), "cus_E"), expected, "grace {grace}");
    }
}

#[test]
fn a_period_ending_exactly_at_the_close_covers_it() {
    let v = vec![inv(at(2024, 2, 1, 0, 0), "p1", "cus_P", "sub_P", 5_000), end_marker(5)];
    let params = Parameters {
        grace_days: 0,
        ..Parameters::default()
    };
    let f = run(&v, &Catalogue::new(), &params);
    // Window starts in February: Feb close covered (end = Mar 1 00:00 = C(Feb)), Mar not.
    assert_eq!(row(usd(&f), "cus_P"), [5_000, 0, 0]);
    // An invoice exactly at a close belongs to the next month: it does not cover that close.
    let v = vec![
        inv(at(2024, 1, 10, 0, 0), "q0", "cus_Q", "", 1),
        inv(at(2024, 2, 1, 0, 0), "q1", "cus_Q", "sub_Q", 5_000),
        end_marker(4),
    ];
    let f = run(&v, &Catalogue::new(), &params);
    assert_eq!(row(usd(&f), "cus_Q"), [0, 5_000, 0]);
}

#[test]
fn the_later_of_two_invoices_wins_and_an_expired_one_gives_way_to_an_older() {
    // Annual contract with an extra charge in March: the extra applies at the
    // March close only, then the annual one again.
    let mut cat = Catalogue::new();
    cat.add_item("sub_A", Interval::Year, "Annual");
    let v = vec![
        inv(at(2024, 1, 15, 0, 0), "a1", "cus_A", "sub_A", 1_200_000),
        inv(at(2024, 3, 10, 0, 0), "a2", "cus_A", "sub_A", 10_000),
        // Same minute, same subscription: the greater (timestamp, id) wins.
        inv(at(2024, 2, 1, 12, 0), "b_1", "cus_B", "sub_B", 1_000),
        inv(at(2024, 2, 1, 12, 0), "b_2", "cus_B", "sub_B", 2_000),
        end_marker(6),
    ];
    let f = run(&v, &cat, &Parameters::default());
    let c = usd(&f);
    // a2: no band, catalogue year → 12 months: it supersedes a1 for a year.
    assert_eq!(row(c, "cus_A"), [100_000, 100_000, 833, 833, 833]);
    assert_eq!(row(c, "cus_B"), [0, 2_000, 0, 0, 0]);
    // Without the catalogue, a1 (12,000.00) is assumed annual and a2 (100.00)
    // monthly: a1 applies again once a2's month (and grace) is over.
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    assert_eq!(row(usd(&f), "cus_A"), [100_000, 100_000, 10_000, 100_000, 100_000]);
}

#[test]
fn non_recurring_invoices_never_touch_mrr() {
    let v = vec![
        inv(at(2024, 1, 3, 0, 0), "f1", "cus_F", "sub_F", 5_000),
        inv(at(2024, 1, 20, 0, 0), "f2", "cus_F", "sub_F", -5_000),
        inv(at(2024, 2, 2, 0, 0), "f3", "cus_F", "sub_F", 0),
        inv(at(2024, 2, 3, 0, 0), "f4", "cus_F", "sub_F", 5_000),
        inv(at(2024, 1, 14, 0, 0), "k1", "cus_K", "", 50_000),
        inv(at(2024, 1, 14, 0, 0), "l1", "cus_L", "sub_L", 0),
        inv(at(2024, 2, 14, 0, 0), "l2", "cus_L", "sub_L", 0),
        end_marker(3),
    ];
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    let c = usd(&f);
    assert_eq!(row(c, "cus_F"), [5_000, 5_000]);
    assert_eq!(c.customer_mrr("cus_K"), None);
    assert_eq!(c.customer_mrr("cus_L"), None);
    assert_eq!(c.months()[0].customers, 1);
    let b = &c.months()[0].billed;
    assert_eq!(
        (
            b.recurring.amount.minor(),
            b.one_off.amount.minor(),
            b.refunds.amount.minor(),
            b.zero_invoices.count
        ),
        (5_000, 50_000, -5_000, 1)
    );
    assert_eq!(b.total.minor(), 50_000);
    c.check_revenue(ym("2024-01"), Money::new(50_000, 2)).unwrap();
}

#[test]
fn each_movement() {
    let mut v = Vec::new();
    v.extend(monthly("cus_new", "s", 2, 4, 5, 1_000));
    v.extend(monthly("cus_exp", "s", 1, 4, 5, 1_000));
    v.extend(monthly("cus_exp", "s2", 3, 4, 6, 500));
    v.extend(monthly("cus_con", "s", 1, 2, 5, 3_000));
    v.extend(monthly("cus_con", "s", 3, 4, 4, 2_000).into_iter().map(|mut i| {
        i.transaction_id = format!("{}b", i.transaction_id).into();
        i
    }));
    v.extend(monthly("cus_churn", "s", 1, 1, 5, 700));
    v.extend(monthly("cus_react", "s", 1, 1, 5, 900));
    v.extend(monthly("cus_react", "s", 3, 4, 5, 1_100).into_iter().map(|mut i| {
        i.transaction_id = format!("{}r", i.transaction_id).into();
        i
    }));
    v.push(end_marker(5));
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    let c = usd(&f);
    let months = c.months();
    let feb = months[1].movements.clone().unwrap();
    assert_eq!(
        [feb.new, feb.expansion, feb.contraction, feb.churn, feb.reactivation].map(Money::minor),
        [1_000, 0, 0, 1_600, 0]
    );
    let mar = months[2].movements.clone().unwrap();
    assert_eq!(
        [mar.new, mar.expansion, mar.contraction, mar.churn, mar.reactivation].map(Money::minor),
        [0, 500, 1_000, 0, 1_100]
    );
    let mc = months[2].movement_customers.clone().unwrap();
    assert_eq!((mc.expansion, mc.contraction, mc.reactivation), (1, 1, 1));
    // Losing one of two subscriptions is contraction, not churn.
    let mut v2 = monthly("cus_two", "a", 1, 3, 5, 1_000);
    v2.extend(monthly("cus_two", "b", 1, 1, 6, 400));
    v2.push(end_marker(4));
    let f2 = run(&v2, &Catalogue::new(), &Parameters::default());
    let feb2 = usd(&f2).months()[1].movements.clone().unwrap();
    assert_eq!((feb2.contraction.minor(), feb2.churn.minor()), (400, 0));
    // The drill-down lists the same customers and sums to the month's figure.
    for (m, month) in months.iter().enumerate().skip(1) {
        let mv = month.movements.clone().unwrap();
        let mc = month.movement_customers.clone().unwrap();
        for (kind, amount, count) in [
            (SaasMovementKind::New, mv.new, mc.new),
            (SaasMovementKind::Expansion, mv.expansion, mc.expansion),
            (SaasMovementKind::Contraction, mv.contraction, mc.contraction),
            (SaasMovementKind::Churn, mv.churn, mc.churn),
            (SaasMovementKind::Reactivation, mv.reactivation, mc.reactivation),
        ] {
            let list = c.movements(month.month, kind).unwrap();
            assert_eq!((list.amount(), list.len() as u64), (amount, count), "{m} {kind}");
        }
    }
}

#[test]
fn left_censored_new_business() {
    // Window from January; monthly first seen Feb 10 is not censored (>= Feb 1),
    // quarterly first seen Feb 10 is (< Apr 1), annual first seen in June is (< next Jan).
    let mut v = vec![inv(at(2024, 1, 2, 0, 0), "w", "cus_w", "", 1)];
    v.extend(monthly("cus_m", "s", 2, 6, 10, 1_000));
    v.push(inv(at(2024, 2, 10, 0, 0), "q1", "cus_q", "s", 3_000));
    v.push(inv(at(2024, 5, 10, 0, 0), "q2", "cus_q", "s", 3_000));
    v.push(inv(at(2024, 6, 10, 0, 0), "y1", "cus_y", "s", 600_000));
    v.push(end_marker(7));
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    let c = usd(&f);
    let feb = c.months()[1].movements.clone().unwrap();
    assert_eq!((feb.new.minor(), feb.new_left_censored.minor()), (2_000, 1_000));
    let jun = c.months()[5].movements.clone().unwrap();
    assert_eq!((jun.new.minor(), jun.new_left_censored.minor()), (50_000, 50_000));
    let list = c.movements(ym("2024-02"), SaasMovementKind::New).unwrap();
    let flags: Vec<(&str, bool)> = list
        .rows()
        .iter()
        .map(|r| (r.customer_id.as_str(), r.left_censored))
        .collect();
    assert_eq!(flags, [("cus_m", false), ("cus_q", true)]);
}

#[test]
fn rates_with_zero_denominators_are_null() {
    // Nobody is active at the January close: February's rates have nothing to divide by.
    let mut v = vec![inv(at(2024, 1, 2, 0, 0), "w", "cus_w", "", 1)];
    v.extend(monthly("cus_a", "s", 2, 3, 10, 1_000));
    v.push(end_marker(5));
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    let c = usd(&f);
    let jan = &c.months()[0];
    assert_eq!((jan.customers, jan.arpa), (0, None));
    let feb = &c.months()[1];
    assert!(feb.movements.is_some(), "movements are zeros after the opening month");
    assert_eq!(feb.logo_churn_rate_pct, None);
    assert_eq!(feb.nrr_pct, None);
    assert_eq!(feb.grr_pct, None);
    assert_eq!(feb.gross_mrr_churn_rate_pct, None);
    assert_eq!(feb.mrr_growth_pct, None);
    assert_eq!(feb.quick_ratio, None);
    // March: no churn or contraction → quick ratio null; NRR 100.
    let mar = &c.months()[2];
    assert_eq!(mar.quick_ratio, None);
    assert_eq!(mar.nrr_pct.unwrap().to_string(), "100.00");
    // April: the only customer churned → quick ratio 0.00, logo churn 100.
    let apr = &c.months()[3];
    assert_eq!(apr.quick_ratio.unwrap().to_string(), "0.00");
    assert_eq!(apr.logo_churn_rate_pct.unwrap().to_string(), "100.00");
    assert_eq!(apr.nrr_3m_pct, None, "nobody active three closes before");
    assert_eq!(apr.arpa, None);
    // The first cohort is February's, not an opening one.
    let cohorts = c.cohorts().cohorts;
    assert_eq!(
        (cohorts[0].cohort.to_string().as_str(), cohorts[0].opening),
        ("2024-02", false)
    );
}

#[test]
fn trailing_retention_counts_returning_members_with_current_mrr() {
    let mut v = monthly("cus_a", "s", 1, 1, 5, 1_000);
    v.extend(monthly("cus_a", "s", 3, 4, 5, 3_000).into_iter().map(|mut i| {
        i.transaction_id = format!("{}x", i.transaction_id).into();
        i
    }));
    v.extend(monthly("cus_b", "s", 1, 4, 5, 1_000));
    v.extend(monthly("cus_c", "s", 2, 4, 5, 5_000));
    v.push(end_marker(5));
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    let apr = &usd(&f).months()[3];
    // Base: a and b at the January close (2,000); April: a 3,000 + b 1,000.
    assert_eq!(apr.nrr_3m_pct.unwrap().to_string(), "200.00");
    assert_eq!(apr.grr_3m_pct.unwrap().to_string(), "100.00");
}

#[test]
fn cohorts_add_up_to_customers_and_mrr() {
    let mut v = monthly("cus_a", "s", 1, 5, 5, 1_000);
    v.extend(monthly("cus_b", "s", 2, 3, 5, 2_000));
    v.extend(monthly("cus_c", "s", 3, 5, 5, 4_000));
    v.extend(monthly("cus_b", "s", 5, 5, 6, 2_500).into_iter().map(|mut i| {
        i.transaction_id = format!("{}x", i.transaction_id).into();
        i
    }));
    v.push(end_marker(6));
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    let c = usd(&f);
    let cohorts = c.cohorts().cohorts;
    let sizes: Vec<u64> = cohorts.iter().map(|c| c.customers).collect();
    assert_eq!(sizes, [1, 1, 1]);
    let feb = &cohorts[1];
    let cells: Vec<(u32, u64, i64)> = feb
        .cells
        .iter()
        .map(|x| (x.months_since, x.active_customers, x.mrr.minor()))
        .collect();
    assert_eq!(cells, [(0, 1, 2_000), (1, 1, 2_000), (2, 0, 0), (3, 1, 2_500)]);
    assert_eq!(feb.cells[3].mrr_retention_pct.unwrap().to_string(), "125.00");
    assert_eq!(feb.cells[2].customer_retention_pct.unwrap().to_string(), "0.00");
    for (m, month) in c.months().iter().enumerate() {
        let active: u64 = cohorts
            .iter()
            .filter_map(|k| k.cells.iter().find(|x| x.month == month.month))
            .map(|x| x.active_customers)
            .sum();
        let mrr: i64 = cohorts
            .iter()
            .filter_map(|k| k.cells.iter().find(|x| x.month == month.month))
            .map(|x| x.mrr.minor())
            .sum();
        assert_eq!((active, mrr), (month.customers, month.mrr.minor()), "{m}");
    }
}

#[test]
fn currencies_share_one_window_and_never_mix() {
    let mut v = monthly("cus_i", "s1", 1, 4, 12, 1_000);
    v.extend(monthly("eur:cus_i", "s2", 3, 3, 12, 2_000).into_iter().map(|mut i| {
        i.transaction_id = format!("{}e", i.transaction_id).into();
        i
    }));
    v.push(end_marker(5));
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    assert_eq!(f.currencies().map(|c| c.currency()).collect::<Vec<_>>(), ["eur", "usd"]);
    let eur = f.currency(code("eur")).unwrap();
    assert_eq!(eur.months().len(), 4, "the window comes from every currency");
    assert_eq!(row(eur, "cus_i"), [0, 0, 2_000, 0]);
    assert_eq!(row(usd(&f), "cus_i"), [1_000; 4]);
    assert_eq!(eur.months()[2].movements.clone().unwrap().new.minor(), 2_000);
    assert_eq!(eur.months()[3].movements.clone().unwrap().churn.minor(), 2_000);
    assert_eq!(usd(&f).months()[3].movements.clone().unwrap().churn.minor(), 0);
    assert!(f.currency(code("gbp")).is_none());
}

#[test]
fn the_open_month_is_used_as_next_invoice_but_not_reported() {
    // Jan 5 then Apr 5 (open month): the January invoice is quarterly because of April.
    let v = vec![
        inv(at(2024, 1, 5, 0, 0), "a1", "cus_a", "s", 30_000),
        inv(at(2024, 4, 5, 0, 0), "a2", "cus_a", "s", 30_000),
    ];
    let f = run(&v, &Catalogue::new(), &Parameters::default());
    let c = usd(&f);
    assert_eq!(f.window().closed_months, ["2024-01", "2024-02", "2024-03"]);
    assert_eq!(row(c, "cus_a"), [10_000; 3]);
    assert!(c.months().iter().all(|m| m.month != "2024-04"));
}

#[test]
fn unsorted_input_gives_the_same_figures() {
    let mut v = monthly("cus_b", "s", 1, 5, 5, 1_000);
    v.extend(monthly("cus_a", "t", 2, 4, 9, 2_000));
    v.extend(monthly("eur:cus_a", "t", 1, 2, 9, 2_000).into_iter().map(|mut i| {
        i.transaction_id = format!("{}e", i.transaction_id).into();
        i
    }));
    v.push(end_marker(6));
    let sorted = {
        let mut s = v.clone();
        s.sort_by(|a, b| {
            (
                &a.currency,
                &a.customer_id,
                &a.subscription_id,
                a.timestamp,
                &a.transaction_id,
            )
                .cmp(&(
                    &b.currency,
                    &b.customer_id,
                    &b.subscription_id,
                    b.timestamp,
                    &b.transaction_id,
                ))
        });
        s
    };
    let reversed: Vec<Invoice> = sorted.iter().rev().cloned().collect();
    let a = run(&v, &Catalogue::new(), &Parameters::default());
    assert_eq!(a, run(&sorted, &Catalogue::new(), &Parameters::default()));
    assert_eq!(a, run(&reversed, &Catalogue::new(), &Parameters::default()));
}

#[test]
fn no_invoices_no_figures() {
    let f = run(&[], &Catalogue::new(), &Parameters::default());
    assert!(f.window().closed_months.is_empty() && f.window().first_transaction.is_none());
    assert_eq!(f.currencies().count(), 0);
    // One month of data: nothing is closed yet.
    let f = run(
        &monthly("cus_a", "s", 1, 1, 5, 100),
        &Catalogue::new(),
        &Parameters::default(),
    );
    assert!(usd(&f).months().is_empty() && usd(&f).cohorts().cohorts.is_empty());
}

#[test]
fn an_invoice_superseded_by_one_worth_zero_mrr_is_an_invariant_violation() {
    // 0.05 a year rounds to 0.00 a month and, being later, supersedes the
    // annual contract: the contract's customer is not active at the close of
    // the contract's own month. The spec calls that a violation: an error
    // naming month and currency, never a figure.
    let mut cat = Catalogue::new();
    cat.add_item("s", Interval::Year, "Annual");
    let v = vec![
        inv(at(2024, 1, 5, 0, 0), "a1", "cus_a", "s", 120_000),
        inv(at(2024, 1, 20, 0, 0), "a2", "cus_a", "s", 5),
        end_marker(3),
    ];
    let err = compute(&v, &cat, &Parameters::default()).unwrap_err();
    match &err {
        SaasError::Invariant { month, currency, what } => {
            assert_eq!((month.as_str(), currency.as_str()), ("2024-01", "usd"));
            assert!(what.contains("cus_a") && what.contains("a1"), "{what}");
        }
        other => panic!("{other}"),
    }
    assert!(!err.is_bad_request());
    assert!(err.to_string().contains("2024-01") && err.to_string().contains("usd"));
}

#[test]
fn sums_beyond_64_bits_are_errors() {
    let big = i64::MAX / 2 + 1;
    let v = vec![
        inv(at(2024, 1, 5, 0, 0), "a1", "cus_a", "s1", big),
        inv(at(2024, 1, 5, 0, 0), "a2", "cus_a", "s2", big),
        end_marker(2),
    ];
    let params = Parameters {
        annual_threshold: Money::new(i64::MAX, 2),
        ..Parameters::default()
    };
    let err = compute(&v, &Catalogue::new(), &params).unwrap_err();
    assert!(matches!(err, SaasError::Overflow { .. }), "{err}");
    assert!(!err.is_bad_request());
}

#[test]
fn service_periods_beyond_the_calendar_are_errors() {
    let t = DateTime::<Utc>::MAX_UTC - chrono::TimeDelta::days(10);
    let v = vec![inv(t, "a1", "cus_a", "s", 100)];
    let err = compute(&v, &Catalogue::new(), &Parameters::default()).unwrap_err();
    assert!(
        matches!(&err, SaasError::DateOutOfRange { transaction_id, .. } if transaction_id == "a1"),
        "{err}"
    );
}

fn code(text: &str) -> Currency {
    Currency::from_code(text).unwrap()
}
