//! Properties of the binomial test-set bound over random (k, n, δ), drawn by proptest.

use pacbayes_bounds::{binomial_ln_cdf, binomial_tail_upper};
use proptest::prelude::*;

/// n up to 2,000, k ≤ n, δ from 1e-9 to 0.49 on a log scale (the range of δ ≤ 1/2, where
/// P[Bin(n, k/n) ≤ k] ≥ 1/2 ≥ δ puts the bound above k/n: k is then the median).
fn k_n_delta() -> impl Strategy<Value = (u64, u64, f64)> {
    (1u64..2_000)
        .prop_flat_map(|n| (0..=n, Just(n)))
        .prop_flat_map(|(k, n)| (Just(k), Just(n), (-9.0..-0.31f64).prop_map(|e| 10f64.powf(e))))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn the_bound_lies_in_its_range_and_holds_delta((k, n, delta) in k_n_delta()) {
        let p = binomial_tail_upper(k, n, delta).unwrap();
        prop_assert!(p <= 1.0, "{p} > 1");
        prop_assert!(p >= k as f64 / n as f64, "{p} < k/n = {}", k as f64 / n as f64);
        if k < n {
            prop_assert!(p > k as f64 / n as f64, "{p} is not above k/n");
            // At the bound the tail has dropped below δ: the bound is not optimistic.
            prop_assert!(binomial_ln_cdf(k, n, p).unwrap() <= delta.ln());
        }
    }

    #[test]
    fn the_bound_is_monotone((k, n, delta) in k_n_delta(), shrink in 0.1..1.0f64) {
        let p = binomial_tail_upper(k, n, delta).unwrap();
        if k < n {
            prop_assert!(binomial_tail_upper(k + 1, n, delta).unwrap() >= p, "not monotone in k");
        }
        // More examples at the same error count, and a larger δ, both lower the bound.
        prop_assert!(binomial_tail_upper(k, n + 1, delta).unwrap() <= p, "not monotone in n");
        prop_assert!(binomial_tail_upper(k, n, delta * shrink).unwrap() >= p, "not monotone in δ");
    }
}
