//! §1: the one rounding rule of every figure, applied once to an exact
//! integer fraction.

/// `num / den` rounded half away from zero (`den` > 0 or < 0, never 0).
pub(super) fn div_round(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den.abs() {
        if (num < 0) == (den < 0) {
            q + 1
        } else {
            q - 1
        }
    } else {
        q
    }
}
