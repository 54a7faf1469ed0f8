//! Fixture K1 of shared/specs/saas-metrics.md §12: every value the spec states.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/support/export.rs"]
mod export;

use api_types::{Currency, Money, SaasMonth, SaasMovementKind};
use saas::{compute, CurrencyFigures, Parameters, SaasFigures};

const PRODUCTS: &str = "subscription ID\tPlan\tProduct\tInterval\tAmount\tStatus\r
sub_B\tprice_B\tChat Enterprise : Annually\tyear\t1200\tactive\r
sub_J\tprice_J\tTiny : Annually\tyear\t1.02\tactive\r
sub_M\tprice_M\tVideo : Quarterly\tmonth\t600\tactive\r
";

const TRANSACTIONS: &str = "Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency\r
1/10/24 12:00\tin_A1\tcus_A\tsub_A\t100\tusd\r
2/10/24 12:00\tin_A2\tcus_A\tsub_A\t100\tusd\r
3/10/24 12:00\tin_A3\tcus_A\tsub_A\t100\tusd\r
1/15/24 9:00\tin_B1\tcus_B\tsub_B\t1200\tusd\r
2/20/24 8:00\tin_C1\tcus_C\tsub_C\t6000\tusd\r
1/5/24 8:00\tin_D1\tcus_D\tsub_D\t300\tusd\r
4/5/24 8:00\tin_D2\tcus_D\tsub_D\t300\tusd\r
1/31/24 10:00\tin_E1\tcus_E\tsub_E\t80\tusd\r
3/1/24 9:00\tin_E2\tcus_E\tsub_E\t80\tusd\r
4/1/24 9:00\tin_E3\tcus_E\tsub_E\t80\tusd\r
1/3/24 7:00\tin_F1\tcus_F\tsub_F\t50\tusd\r
2/3/24 7:00\tin_F2\tcus_F\tsub_F\t50\tusd\r
2/20/24 7:00\tin_F3\tcus_F\tsub_F\t-50\tusd\r
2/25/24 7:00\tin_F4\tcus_F\tsub_F\t0\tusd\r
3/3/24 7:00\tin_F5\tcus_F\tsub_F\t50\tusd\r
4/3/24 7:00\tin_F6\tcus_F\tsub_F\t50\tusd\r
1/1/24 6:00\tin_G1\tcus_G\tsub_G1\t100\tusd\r
2/1/24 6:00\tin_G2\tcus_G\tsub_G1\t100\tusd\r
3/1/24 6:00\tin_G3\tcus_G\tsub_G1\t100\tusd\r
4/1/24 6:00\tin_G4\tcus_G\tsub_G1\t100\tusd\r
2/1/24 7:00\tin_G5\tcus_G\tsub_G2\t50\tusd\r
3/1/24 7:00\tin_G6\tcus_G\tsub_G2\t50\tusd\r
1/7/24 5:00\tin_H1\tcus_H1\tsub_H\t20\tusd\r
2/7/24 5:00\tin_H2\tcus_H1\tsub_H\t20\tusd\r
3/7/24 5:00\tin_H3\tcus_H2\tsub_H\t20\tusd\r
4/7/24 5:00\tin_H4\tcus_H2\tsub_H\t20\tusd\r
1/12/24 4:00\tin_I1\tcus_I\tsub_I1\t10\tusd\r
2/12/24 4:00\tin_I2\tcus_I\tsub_I1\t10\tusd\r
3/12/24 4:00\tin_I3\tcus_I\tsub_I1\t10\tusd\r
4/12/24 4:00\tin_I4\tcus_I\tsub_I1\t10\tusd\r
1/12/24 4:00\tin_I5\tcus_I\tsub_I2\t20\teur\r
2/12/24 4:00\tin_I6\tcus_I\tsub_I2\t20\teur\r
3/12/24 4:00\tin_I7\tcus_I\tsub_I2\t20\teur\r
4/12/24 4:00\tin_I8\tcus_I\tsub_I2\t20\teur\r
3/15/24 3:00\tin_J1\tcus_J\tsub_J\t1.02\tusd\r
2/14/24 2:00\tin_K1\tcus_K\t\t500\tusd\r
1/20/24 1:00\tin_L1\tcus_L\tsub_L\t0\tusd\r
2/20/24 1:00\tin_L2\tcus_L\tsub_L\t0\tusd\r
2/10/24 11:00\tin_M1\tcus_M\tsub_M\t600\tusd\r
5/5/24 12:00\tin_Z1\tcus_Z\tsub_Z\t10\tusd\r
";

fn k1(grace_days: u32) -> SaasFigures {
    let invoices = export::transactions(TRANSACTIONS).unwrap();
    assert_eq!(invoices.len(), 40);
    let catalogue = export::catalogue(PRODUCTS).unwrap();
    let params = Parameters {
        grace_days,
        ..Parameters::default()
    };
    compute(&invoices, &catalogue, &params).unwrap()
}

fn ym(text: &str) -> api_types::Month {
    api_types::Month::parse(text).unwrap()
}

fn s(m: Option<Money>) -> String {
    m.map_or("–".into(), |m| m.to_string())
}

fn month<'a>(c: &'a CurrencyFigures, label: &str) -> &'a SaasMonth {
    c.months().iter().find(|m| m.month == label).unwrap()
}

/// Customer MRR at the closes Jan/Feb/Mar/Apr, in dollars.
fn customer(c: &CurrencyFigures, id: &str) -> Vec<String> {
    match c.customer_mrr(id) {
        Some(row) => row.iter().map(|&v| Money::new(v, 2).to_string()).collect(),
        None => vec!["0.00".into(); c.months().len()],
    }
}

#[test]
fn k1_customer_mrr_at_each_close() {
    let f = k1(7);
    assert_eq!(f.window().closed_months, ["2024-01", "2024-02", "2024-03", "2024-04"]);
    let usd = f.currency(code("usd")).unwrap();
    let four = |v: &str| vec![v.to_owned(); 4];
    let row = |v: [&str; 4]| v.map(str::to_owned).to_vec();
    assert_eq!(customer(usd, "cus_A"), row(["100.00", "100.00", "100.00", "0.00"]));
    assert_eq!(customer(usd, "cus_B"), four("100.00"));
    assert_eq!(customer(usd, "cus_C"), row(["0.00", "500.00", "500.00", "500.00"]));
    assert_eq!(customer(usd, "cus_D"), four("100.00"));
    assert_eq!(customer(usd, "cus_E"), four("80.00"));
    assert_eq!(customer(usd, "cus_F"), four("50.00"));
    assert_eq!(customer(usd, "cus_G"), row(["100.00", "150.00", "150.00", "100.00"]));
    assert_eq!(customer(usd, "cus_H1"), row(["20.00", "20.00", "0.00", "0.00"]));
    assert_eq!(customer(usd, "cus_H2"), row(["0.00", "0.00", "20.00", "20.00"]));
    assert_eq!(customer(usd, "cus_I"), four("10.00"));
    assert_eq!(customer(usd, "cus_J"), row(["0.00", "0.00", "0.09", "0.09"]));
    assert_eq!(customer(usd, "cus_M"), row(["0.00", "200.00", "200.00", "200.00"]));
    assert_eq!(customer(usd, "cus_Z"), four("0.00"));
    assert_eq!(usd.customer_mrr("cus_K"), None, "one-off only: not a subscriber");
    assert_eq!(usd.customer_mrr("cus_L"), None, "billed only $0: never a customer");
    let eur = f.currency(code("eur")).unwrap();
    assert_eq!(customer(eur, "cus_I"), four("20.00"));
}

#[test]
fn k1_mrr_customers_and_movements() {
    let f = k1(7);
    let usd = f.currency(code("usd")).unwrap();
    // month, MRR, customers, new, expansion, contraction, churn, reactivation, new_left_censored
    let expected = [
        ("2024-01", "560.00", 8, None),
        (
            "2024-02",
            "1310.00",
            10,
            Some(["700.00", "50.00", "0.00", "0.00", "0.00", "700.00"]),
        ),
        (
            "2024-03",
            "1310.09",
            11,
            Some(["20.09", "0.00", "0.00", "20.00", "0.00", "0.09"]),
        ),
        (
            "2024-04",
            "1160.09",
            10,
            Some(["0.00", "0.00", "50.00", "100.00", "0.00", "0.00"]),
        ),
    ];
    for (label, mrr, customers, movements) in expected {
        let m = month(usd, label);
        assert_eq!(m.mrr.to_string(), mrr, "{label}");
        assert_eq!(m.customers, customers, "{label}");
        let got = m.movements.as_ref().map(|mv| {
            [
                mv.new,
                mv.expansion,
                mv.contraction,
                mv.churn,
                mv.reactivation,
                mv.new_left_censored,
            ]
            .map(|v| v.to_string())
        });
        assert_eq!(got, movements.map(|v| v.map(str::to_owned)), "{label}");
    }
    assert_eq!(
        month(usd, "2024-04").movements.as_ref().unwrap().net_new.to_string(),
        "-150.00"
    );
    let counts = month(usd, "2024-02").movement_customers.clone().unwrap();
    // C, M new (both left-censored: their first invoice is within its interval of Jan 1); G expands.
    assert_eq!((counts.new, counts.expansion, counts.new_left_censored), (2, 1, 2));
    let counts = month(usd, "2024-03").movement_customers.clone().unwrap();
    assert_eq!((counts.new, counts.churn, counts.new_left_censored), (2, 1, 1));
    let counts = month(usd, "2024-04").movement_customers.clone().unwrap();
    assert_eq!((counts.churn, counts.contraction), (1, 1));
    assert_eq!(month(usd, "2024-01").arr.to_string(), "6720.00");
}

#[test]
fn k1_rates() {
    let f = k1(7);
    let usd = f.currency(code("usd")).unwrap();
    let pct = |p: Option<api_types::Percent>| p.map_or("null".to_owned(), |p| p.to_string());
    let feb = month(usd, "2024-02");
    assert_eq!(feb.quick_ratio, None, "no churn, no contraction");
    assert_eq!(pct(feb.logo_churn_rate_pct), "0.00");
    let mar = month(usd, "2024-03");
    assert_eq!(pct(mar.logo_churn_rate_pct), "10.00");
    assert_eq!(mar.quick_ratio.unwrap().to_string(), "1.00");
    let apr = month(usd, "2024-04");
    assert_eq!(pct(apr.logo_churn_rate_pct), "9.09");
    assert_eq!(pct(apr.nrr_pct), "88.55");
    assert_eq!(pct(apr.grr_pct), "88.55");
    assert_eq!(pct(apr.nrr_3m_pct), "78.57");
    assert_eq!(pct(apr.grr_3m_pct), "78.57");
    assert_eq!(pct(apr.nrr_6m_pct), "null");
    assert_eq!(s(apr.arpa), "116.01");
    assert_eq!(pct(apr.gross_mrr_churn_rate_pct), "11.45");
    assert_eq!(pct(apr.net_mrr_churn_rate_pct), "11.45");
    assert_eq!(pct(apr.mrr_growth_pct), "-11.45");
    assert_eq!(apr.quick_ratio.unwrap().to_string(), "0.00");
    let jan = month(usd, "2024-01");
    assert!(jan.warm_up && jan.movements.is_none() && jan.nrr_pct.is_none() && jan.quick_ratio.is_none());
    assert!(month(usd, "2024-02").warm_up && !mar.warm_up);
    assert_eq!(mar.opening_complete_up_to_months, 3);
}

#[test]
fn k1_billed_february() {
    let f = k1(7);
    let feb = month(f.currency(code("usd")).unwrap(), "2024-02");
    let b = &feb.billed;
    assert_eq!(b.recurring.amount.to_string(), "6930.00");
    assert_eq!(b.one_off.amount.to_string(), "500.00");
    assert_eq!(b.refunds.amount.to_string(), "-50.00");
    assert_eq!(b.zero_invoices.count, 2);
    assert_eq!(b.total.to_string(), "7380.00");
    // A2 C1 F2 G2 G5 H2 I2 M1 recurring, K1 one-off, F3 refund, F4 L2 zero.
    assert_eq!(
        (b.invoices, b.recurring.count, b.one_off.count, b.refunds.count),
        (12, 8, 1, 1)
    );
    let usd = f.currency(code("usd")).unwrap();
    usd.check_revenue(ym("2024-02"), Money::new(738_000, 2)).unwrap();
    let err = usd.check_revenue(ym("2024-02"), Money::new(737_999, 2)).unwrap_err();
    assert!(
        matches!(&err, saas::SaasError::Invariant { month, currency, .. } if month == "2024-02" && currency == "usd")
    );
    assert!(!err.is_bad_request());
    // May is open: nothing to reconcile.
    usd.check_revenue(ym("2024-05"), Money::new(1, 2)).unwrap();
}

#[test]
fn k1_cohorts() {
    let f = k1(7);
    let cohorts = f.currency(code("usd")).unwrap().cohorts().cohorts;
    let sizes: Vec<(String, bool, u64)> = cohorts
        .iter()
        .map(|c| (c.cohort.to_string(), c.opening, c.customers))
        .collect();
    assert_eq!(
        sizes,
        [("2024-01", true, 8), ("2024-02", false, 2), ("2024-03", false, 2)].map(|(m, o, n)| (m.to_owned(), o, n))
    );
    let jan = &cohorts[0];
    assert_eq!(jan.mrr.to_string(), "560.00");
    let last = jan.cells.last().unwrap();
    // A and H1 are gone in April; G is down to 100.
    assert_eq!(
        (last.months_since, last.active_customers, last.mrr.to_string()),
        (3, 6, "440.00".to_owned())
    );
    assert_eq!(last.customer_retention_pct.unwrap().to_string(), "75.00");
    assert_eq!(last.mrr_retention_pct.unwrap().to_string(), "78.57");
    let eur = f.currency(code("eur")).unwrap().cohorts().cohorts;
    assert_eq!(eur.len(), 1);
    assert_eq!(eur[0].cells.len(), 4);
}

#[test]
fn k1_interval_splits() {
    let f = k1(7);
    let usd = f.currency(code("usd")).unwrap();
    let mar = month(usd, "2024-03");
    let by_k: Vec<(u32, String)> = mar
        .mrr_by_interval_months
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    // monthly: A, E, F, G, H2, I = 100+80+50+150+20+10; quarterly: D, M; annual: B, C, J.
    assert_eq!(
        by_k,
        [
            (1, "410.00".to_owned()),
            (3, "300.00".to_owned()),
            (12, "600.09".to_owned())
        ]
    );
    let src = &mar.mrr_by_interval_source;
    assert_eq!(src.catalogue_year.to_string(), "100.09");
    assert_eq!(src.assumed_annual.to_string(), "500.00");
    assert_eq!(src.catalogue_month.to_string(), "200.00");
}

#[test]
fn k1_grace_zero_churns_and_reactivates_cus_e() {
    let f = k1(0);
    let usd = f.currency(code("usd")).unwrap();
    assert_eq!(customer(usd, "cus_E"), ["80.00", "0.00", "80.00", "80.00"]);
    let feb = month(usd, "2024-02").movements.clone().unwrap();
    assert_eq!(feb.churn.to_string(), "80.00");
    let mar = month(usd, "2024-03").movements.clone().unwrap();
    assert_eq!(mar.reactivation.to_string(), "80.00");
    let list = usd.movements(ym("2024-03"), SaasMovementKind::Reactivation).unwrap();
    assert_eq!(list.rows().len(), 1);
    assert_eq!(list.rows()[0].customer_id, "cus_E");
    // Every other customer as with grace 7.
    let grace7 = k1(7);
    let usd7 = grace7.currency(code("usd")).unwrap();
    for id in usd7.movement_customer_ids().filter(|&id| id != "cus_E") {
        assert_eq!(customer(usd, id), customer(usd7, id), "{id}");
    }
    let (feb, mar, apr) = (month(usd, "2024-02"), month(usd, "2024-03"), month(usd, "2024-04"));
    assert_eq!((feb.mrr.to_string(), feb.customers), ("1230.00".to_owned(), 9));
    let fm = feb.movements.clone().unwrap();
    assert_eq!(
        (fm.new.to_string(), fm.expansion.to_string()),
        ("700.00".to_owned(), "50.00".to_owned())
    );
    assert_eq!(feb.movement_customers.clone().unwrap().churn, 1);
    assert_eq!(feb.logo_churn_rate_pct.unwrap().to_string(), "12.50");
    assert_eq!((mar.mrr.to_string(), mar.customers), ("1310.09".to_owned(), 11));
    let mm = mar.movements.clone().unwrap();
    assert_eq!(
        (mm.new.to_string(), mm.churn.to_string()),
        ("20.09".to_owned(), "20.00".to_owned())
    );
    assert_eq!(mar.movement_customers.clone().unwrap().reactivation, 1);
    // (20.09 + 80.00) / 20.00
    assert_eq!(mar.quick_ratio.unwrap().to_string(), "5.00");
    assert_eq!((apr.mrr.to_string(), apr.customers), ("1160.09".to_owned(), 10));
    // Cohorts do not change: cus_E stays in the opening cohort; 7 of its 8 are active at the Feb close.
    let cohorts = usd.cohorts().cohorts;
    let sizes: Vec<(String, u64)> = cohorts.iter().map(|c| (c.cohort.to_string(), c.customers)).collect();
    assert_eq!(
        sizes,
        [("2024-01", 8), ("2024-02", 2), ("2024-03", 2)].map(|(m, n)| (m.to_owned(), n))
    );
    assert_eq!(cohorts[0].cells[1].active_customers, 7);
}

#[test]
fn k1_drill_down() {
    let f = k1(7);
    let usd = f.currency(code("usd")).unwrap();
    let new = usd.movements(ym("2024-02"), SaasMovementKind::New).unwrap();
    let page = new.page(0, 10);
    assert_eq!(page.total, 2);
    assert_eq!(page.amount.to_string(), "700.00");
    let ids: Vec<&str> = page.customers.iter().map(|c| c.customer_id.as_str()).collect();
    assert_eq!(ids, ["cus_C", "cus_M"], "largest change first");
    assert!(page
        .customers
        .iter()
        .all(|c| c.left_censored && c.previous_mrr.is_zero()));
    assert_eq!(new.page(1, 10).customers.len(), 1);
    assert_eq!(new.page(5, 10).customers.len(), 0);
    assert_eq!(new.page(0, 1).customers.len(), 1);
    let churn = usd.movements(ym("2024-04"), SaasMovementKind::Churn).unwrap();
    let row = &churn.rows()[0];
    assert_eq!(
        (row.customer_id.as_str(), row.change.to_string()),
        ("cus_A", "-100.00".to_owned())
    );
    assert_eq!(churn.amount().to_string(), "100.00");
    assert!(
        usd.movements(ym("2024-01"), SaasMovementKind::New).is_none(),
        "opening month"
    );
    assert!(
        usd.movements(ym("2024-05"), SaasMovementKind::New).is_none(),
        "open month"
    );
    assert!(usd.movements(ym("2023-12"), SaasMovementKind::New).is_none());
    // The page serialises as the API's body.
    let json = serde_json::to_value(churn.page(0, 50)).unwrap();
    assert_eq!(json["kind"], "churn");
    assert_eq!(json["customers"][0]["previous_mrr"], "100.00");
}

#[test]
fn k1_serialises_as_the_api_shape() {
    let f = k1(7);
    let json = serde_json::to_value(f.currency(code("usd")).unwrap().mrr()).unwrap();
    assert_eq!(json["parameters"]["annual_threshold"], "3000.00");
    assert_eq!(json["parameters"]["grace_days"], 7);
    assert_eq!(json["window"]["first_transaction"], "2024-01-01T06:00:00.000Z");
    assert_eq!(json["window"]["last_transaction"], "2024-05-05T12:00:00.000Z");
    let apr = &json["months"][3];
    assert_eq!(apr["nrr_pct"], "88.55");
    assert_eq!(apr["mrr_by_interval_months"]["12"], "600.09");
    assert_eq!(apr["movements"]["churn"], "100.00");
    assert!(json["months"][0]["movements"].is_null());
}

fn code(text: &str) -> Currency {
    Currency::from_code(text).unwrap()
}
