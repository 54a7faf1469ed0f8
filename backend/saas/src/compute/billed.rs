//! §10: the billed amounts of each month, every invoice counted once by
//! kind: recurring, one-off, zero, refund.

use crate::Invoice;

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

/// §10: adds one invoice (of any kind) to the billed amounts of its
/// calendar month (`month` in the window; the open month is not reported).
pub(super) fn bill(billed: &mut [Billed], inv: &Invoice, month: i64, minor: i64) {
    let Some(b) = usize::try_from(month).ok().and_then(|m| billed.get_mut(m)) else {
        return;
    };
    let amount = i128::from(minor);
    b.total += amount;
    b.invoices += 1;
    let slot = if minor > 0 && !inv.subscription_id.is_empty() {
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
