//! §10: the billed amounts of each month, every invoice counted once by
//! kind: recurring, one-off, zero, refund.

use api_types::{SaasBilled, SaasBilledAmount, SaasBilledCount};

use super::output::Output;
use crate::order::{Row, NO_SUBSCRIPTION};
use crate::SaasError;

/// Billed amounts of one month (§10).
#[derive(Default, Clone)]
pub(super) struct Billed {
    pub(super) recurring: (i128, u64),
    pub(super) one_off: (i128, u64),
    pub(super) zero: u64,
    pub(super) refunds: (i128, u64),
    pub(super) total: i128,
    pub(super) invoices: u64,
}

impl Billed {
    /// Adds another part's amounts of the same month.
    pub(super) fn absorb(&mut self, other: &Billed) {
        // Destructured: a field added and not summed here fails to compile.
        let Billed {
            recurring,
            one_off,
            zero,
            refunds,
            total,
            invoices,
        } = *other;
        for (a, b) in [
            (&mut self.recurring, recurring),
            (&mut self.one_off, one_off),
            (&mut self.refunds, refunds),
        ] {
            a.0 += b.0;
            a.1 += b.1;
        }
        self.zero += zero;
        self.total += total;
        self.invoices += invoices;
    }
}

/// §10: adds one invoice (of any kind) to the billed amounts of its
/// calendar month (`month` in the window; the open month is not reported).
pub(super) fn bill(billed: &mut [Billed], inv: &Row, month: i64, minor: i64) {
    let Some(b) = usize::try_from(month).ok().and_then(|m| billed.get_mut(m)) else {
        return;
    };
    let amount = i128::from(minor);
    b.total += amount;
    b.invoices += 1;
    let slot = if minor > 0 && inv.subscription != NO_SUBSCRIPTION {
        &mut b.recurring
    } else if minor > 0 {
        &mut b.one_off
    } else if minor == 0 {
        b.zero += 1;
        return;
    } else {
        &mut b.refunds
    };
    slot.0 += amount;
    slot.1 += 1;
}

impl Billed {
    /// §13: the kinds add up to the month's total, in amount and in count.
    pub(super) fn check(&self, out: &Output, m: usize) -> Result<(), SaasError> {
        if self.recurring.0 + self.one_off.0 + self.refunds.0 != self.total
            || self.recurring.1 + self.one_off.1 + self.zero + self.refunds.1 != self.invoices
        {
            return Err(out.invariant(m, "billed: recurring + one_off + refunds != total".into()));
        }
        Ok(())
    }

    /// As the MRR report serves them.
    pub(super) fn to_api(&self, out: &Output) -> Result<SaasBilled, SaasError> {
        Ok(SaasBilled {
            recurring: SaasBilledAmount {
                amount: out.money(self.recurring.0, "billed")?,
                count: self.recurring.1,
            },
            one_off: SaasBilledAmount {
                amount: out.money(self.one_off.0, "billed")?,
                count: self.one_off.1,
            },
            zero_invoices: SaasBilledCount { count: self.zero },
            refunds: SaasBilledAmount {
                amount: out.money(self.refunds.0, "billed")?,
                count: self.refunds.1,
            },
            total: out.money(self.total, "billed")?,
            invoices: self.invoices,
        })
    }
}
