//! The generated customers and their subscriptions. Each customer's whole
//! life is drawn from (seed, customer index) alone, so that any month of any
//! customer can be asked for again without keeping state: the generator
//! stays streaming however many customers there are.

/// Monthly list prices in cents: a triangular draw over the tiers makes the
/// middle ones ($199–$499) the most common.
const TIERS: [u64; 11] = [
    2_900, 4_900, 9_900, 14_900, 19_900, 29_900, 49_900, 79_900, 99_900, 149_900, 299_900,
];

/// Months of history before the window: subscriptions that began up to
/// three years earlier renew inside it (annual ones at their anniversary).
const HISTORY_MONTHS: i32 = 36;

/// A billing cadence and what it does to the price and to churn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cadence {
    Monthly,
    Quarterly,
    Annual,
}

impl Cadence {
    pub(super) fn months(self) -> i32 {
        match self {
            Cadence::Monthly => 1,
            Cadence::Quarterly => 3,
            Cadence::Annual => 12,
        }
    }

    /// Percent of the monthly price × months charged: longer commitments get a discount.
    fn percent_paid(self) -> u64 {
        match self {
            Cadence::Monthly => 100,
            Cadence::Quarterly => 95,
            Cadence::Annual => 85,
        }
    }

    /// ln of the probability that a paid period is renewed (3.5% of monthly
    /// subscriptions leave each month, 8% of quarterly ones each quarter, 20%
    /// of annual ones each year), for an inverse-CDF geometric draw.
    fn ln_renewal(self) -> f64 {
        match self {
            Cadence::Monthly => -0.035_627_178_364_804_3,   // ln 0.965
            Cadence::Quarterly => -0.083_381_608_939_051_1, // ln 0.92
            Cadence::Annual => -0.223_143_551_314_209_8,    // ln 0.80
        }
    }

    /// How the products file names the cadence (as the real export does:
    /// "Chat Enterprise : Quarterly" is a `month` item) and its `Interval`.
    pub(super) fn catalogue(self) -> (&'static str, &'static str) {
        match self {
            Cadence::Monthly => ("Monthly", "month"),
            Cadence::Quarterly => ("Quarterly", "month"),
            Cadence::Annual => ("Annually", "year"),
        }
    }
}

/// One run of invoices of one subscription: from month `start` (an index
/// relative to the window's first month), every `cadence`, `periods` times.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    pub cadence: Cadence,
    pub start: i32,
    pub periods: i32,
    /// Monthly price in cents, and from which period on it becomes `changed`.
    pub price: u64,
    pub change: Option<(i32, u64)>,
    /// Whether the products file lists this subscription.
    pub listed: bool,
}

impl Run {
    /// The month after the last paid period.
    pub(super) fn end(&self) -> i32 {
        self.start + self.periods * self.cadence.months()
    }

    /// The monthly price of the period billed in `month`, if one is.
    fn billed_in(&self, month: i32) -> Option<u64> {
        let since = month - self.start;
        let k = self.cadence.months();
        if since < 0 || since % k != 0 || since / k >= self.periods {
            return None;
        }
        Some(match self.change {
            Some((from, price)) if since / k >= from => price,
            _ => self.price,
        })
    }

    /// The monthly price of the last period.
    pub(super) fn last_price(&self) -> u64 {
        self.change.map_or(self.price, |(_, p)| p)
    }
}

/// Which subscription of a customer an invoice is for (part of its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Main = 0,
    AddOn = 1,
    Comeback = 2,
    /// A free plan, billed only $0.00.
    Free = 3,
}

/// One recurring invoice: its customer, subscription and total in cents.
#[derive(Debug, Clone, Copy)]
pub(super) struct Invoice {
    pub customer: u64,
    pub slot: Slot,
    pub cents: u64,
}

/// A customer's subscriptions: the main one, a monthly add-on (support,
/// seats) that may start later or stop earlier, and a new subscription
/// months after the main one ended (a reactivation).
#[derive(Debug, Clone, Copy)]
pub(super) struct Customer {
    pub index: u64,
    pub main: Run,
    pub add_on: Option<Run>,
    pub comeback: Option<Run>,
    /// Tax in basis points on every invoice (gives totals like 531.93).
    pub tax_bp: u64,
    pub product: usize,
}

impl Customer {
    /// Customer `index`'s life in a window of `months` months.
    pub(super) fn draw(seed: u64, index: u64, months: i32) -> Customer {
        if currency(index) != "usd" {
            return Customer::steady(index, months);
        }
        let mut rng = fastrand::Rng::with_seed(mix(seed ^ mix(index.wrapping_add(0x51_7CC1))));
        let cadence = match rng.u32(0..100) {
            0..=71 => Cadence::Monthly,
            72..=87 => Cadence::Quarterly,
            _ => Cadence::Annual,
        };
        let listed_percent = match cadence {
            Cadence::Monthly => 5,
            Cadence::Quarterly => 40,
            Cadence::Annual => 60,
        };
        let tier = rng.usize(0..=5) + rng.usize(0..=5);
        let mut main = Run {
            cadence,
            start: rng.i32(-HISTORY_MONTHS..months),
            periods: periods(&mut rng, cadence),
            price: TIERS[tier],
            change: None,
            listed: rng.u32(0..100) < listed_percent,
        };
        if main.periods >= 2 && rng.u32(0..100) < 35 {
            let up = rng.u32(0..100) < 65 && tier + 1 < TIERS.len() || tier == 0;
            let to = if up {
                (tier + rng.usize(1..=2)).min(TIERS.len() - 1)
            } else {
                tier - 1
            };
            main.change = Some((rng.i32(1..main.periods.min(12)), TIERS[to]));
        }
        let add_on = (rng.u32(0..100) < 20).then(|| {
            let start = main.start + rng.i32(0..8);
            let wanted = rng.i32(2..20);
            Run {
                cadence: Cadence::Monthly,
                start,
                periods: wanted.min(main.end() - start).max(0),
                price: TIERS[tier] / 5,
                change: None,
                listed: rng.u32(0..100) < 5,
            }
        });
        let comeback = (rng.u32(0..100) < 30).then(|| {
            let cadence = if rng.u32(0..100) < 80 {
                Cadence::Monthly
            } else {
                cadence
            };
            Run {
                cadence,
                start: main.end() + rng.i32(2..10),
                periods: periods(&mut rng, cadence),
                price: TIERS[tier.saturating_sub(rng.usize(0..=1))],
                change: None,
                listed: rng.u32(0..100) < listed_percent,
            }
        });
        Customer {
            index,
            main,
            add_on,
            comeback,
            tax_bp: [0, 0, 0, 725, 887, 2_000][rng.usize(0..6)],
            product: rng.usize(0..super::PRODUCTS.len()),
        }
    }

    /// One of the few customers paying in euros: a monthly subscriber from
    /// before the window to after it, the same whatever the seed. With so few
    /// of them, their currency's revenue would otherwise swing between two
    /// generated exports enough to trip the ingest's guard rail on a replace
    /// (at least half of each currency's revenue kept): the first pays more
    /// than any later one, so that a smaller export with one euro customer
    /// fewer still keeps more than half.
    fn steady(index: u64, months: i32) -> Customer {
        let mut rng = fastrand::Rng::with_seed(mix(index));
        let tier = if index < 400 { 9 } else { rng.usize(5..=8) };
        Customer {
            index,
            main: Run {
                cadence: Cadence::Monthly,
                start: rng.i32(-HISTORY_MONTHS..0),
                periods: HISTORY_MONTHS + months + 12,
                price: TIERS[tier],
                change: None,
                listed: false,
            },
            add_on: None,
            comeback: None,
            tax_bp: 2_000,
            product: rng.usize(0..super::PRODUCTS.len()),
        }
    }

    /// The customer's recurring invoices scheduled in `month` (at most two:
    /// the main or the comeback subscription, and the add-on).
    pub(super) fn invoices(&self, month: i32) -> [Option<Invoice>; 2] {
        let invoice = |slot, run: &Run| {
            run.billed_in(month).map(|price| Invoice {
                customer: self.index,
                slot,
                cents: self.total_cents(run.cadence, price),
            })
        };
        let first =
            invoice(Slot::Main, &self.main).or_else(|| self.comeback.as_ref().and_then(|r| invoice(Slot::Comeback, r)));
        [first, self.add_on.as_ref().and_then(|r| invoice(Slot::AddOn, r))]
    }

    /// What one period of `monthly` cents costs at `cadence`, tax included.
    pub(super) fn total_cents(&self, cadence: Cadence, monthly: u64) -> u64 {
        let net = monthly * cadence.months() as u64 * cadence.percent_paid() / 100;
        (net * (10_000 + self.tax_bp) + 5_000) / 10_000
    }

    /// The subscriptions the products file may list, with their slot.
    pub(super) fn runs(&self) -> impl Iterator<Item = (Slot, &Run)> {
        [
            (Slot::Main, Some(&self.main)),
            (Slot::AddOn, self.add_on.as_ref()),
            (Slot::Comeback, self.comeback.as_ref()),
        ]
        .into_iter()
        .filter_map(|(slot, run)| run.map(|r| (slot, r)))
    }
}

/// The currency customer `c` pays in: one in 400 pays in euros.
pub(super) fn currency(c: u64) -> &'static str {
    if c % 400 == 7 {
        "eur"
    } else {
        "usd"
    }
}

/// The number of paid periods before a subscription is cancelled: geometric,
/// at least one.
fn periods(rng: &mut fastrand::Rng, cadence: Cadence) -> i32 {
    let u = 1.0 - rng.f64();
    let extra = (u.ln() / cadence.ln_renewal()).floor();
    1 + extra.min(1_000.0) as i32
}

/// SplitMix64's finaliser: a cheap, well-spread hash of a u64.
pub(super) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
