//! Revenue split across a subscription's plans, exactly.

/// Splits `total` minor units across plans in proportion to their amounts
/// (whatever their unit), exactly: largest remainders get the leftover units (ties to the earlier plan), equal
/// shares when every amount is zero. The parts always add up to `total`.
pub fn allocate(total: i64, amounts: &[i64]) -> Vec<i64> {
    if total < 0 {
        // A refund is split like the charge it reverses.
        return allocate(-total, amounts).into_iter().map(|p| -p).collect();
    }
    let n = amounts.len();
    if n == 0 {
        return Vec::new();
    }
    let weight_sum: i128 = amounts.iter().map(|&a| i128::from(a.max(0))).sum();
    let weights: Vec<i128> = if weight_sum == 0 {
        vec![1; n]
    } else {
        amounts.iter().map(|&a| i128::from(a.max(0))).collect()
    };
    let denom: i128 = weights.iter().sum();
    let total128 = i128::from(total);
    let mut parts: Vec<i64> = Vec::with_capacity(n);
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(n);
    for (i, w) in weights.iter().enumerate() {
        let num = total128 * w;
        parts.push((num / denom) as i64);
        remainders.push((num % denom, i));
    }
    let mut leftover = total - parts.iter().sum::<i64>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if leftover == 0 {
            break;
        }
        parts[i] += 1;
        leftover -= 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::allocate;

    #[test]
    fn allocation_is_exact_and_proportional() {
        assert_eq!(allocate(1000, &[300, 100]), vec![750, 250]);
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(101, &[0, 0]), vec![51, 50]);
        assert_eq!(allocate(0, &[5, 7]), vec![0, 0]);
        assert_eq!(allocate(-100, &[1, 1, 1]), vec![-34, -33, -33]);
        assert_eq!(allocate(999, &[173_000, 0]), vec![999, 0]);
        for total in [1, 7, 99_999, 123_456_789] {
            let parts = allocate(total, &[17_300_000, 4_900, 1_049]);
            assert_eq!(parts.iter().sum::<i64>(), total);
        }
    }
}

#[cfg(test)]
mod props {
    use super::allocate;
    use proptest::prelude::*;

    proptest! {
        /// The parts add up to the total exactly, keep its sign, and each is
        /// within a cent of its exact proportional share.
        #[test]
        fn allocation_is_exact(total in -1_000_000_000_000i64..1_000_000_000_000, amounts in prop::collection::vec(0i64..10_000_000, 1..8)) {
            let parts = allocate(total, &amounts);
            prop_assert_eq!(parts.len(), amounts.len());
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            prop_assert!(parts.iter().all(|&p| p == 0 || (p > 0) == (total > 0)), "a share of the other sign: {parts:?}");
            let weights: Vec<i128> = if amounts.iter().all(|&a| a == 0) { vec![1; amounts.len()] } else { amounts.iter().map(|&a| i128::from(a)).collect() };
            let sum: i128 = weights.iter().sum();
            for (p, w) in parts.iter().zip(&weights) {
                let exact = i128::from(total) * w;
                let share = i128::from(*p) * sum;
                prop_assert!((share - exact).abs() < sum, "part {p} of {total} for weight {w}/{sum}");
            }
        }
    }
}
