//! Properties of the kl inverses over 10⁵ random (q, c) pairs each, drawn by proptest.

use pacbayes_bounds::{kl, kl_inv_lower, kl_inv_upper};
use proptest::prelude::*;

const CASES: u32 = 100_000;

/// q spread over [0, 1] with mass near both ends; c from 1e-12 to 30 on a log scale.
fn q_and_c() -> impl Strategy<Value = (f64, f64)> {
    let q = prop_oneof![
        0.0..=1.0f64,
        (-12.0..0.0f64).prop_map(|e| 10f64.powf(e)),
        (-12.0..0.0f64).prop_map(|e| 1.0 - 10f64.powf(e))
    ];
    let c = (-12.0..1.5f64).prop_map(|e| 10f64.powf(e));
    (q, c)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn upper_inverse_reaches_c_and_brackets_q((q, c) in q_and_c()) {
        let up = kl_inv_upper(q, c).unwrap();
        let low = kl_inv_lower(q, c).unwrap();
        prop_assert!(low <= q && q <= up, "lower {low} ≤ q {q} ≤ upper {up}");
        if up < 1.0 {
            prop_assert!(kl(q, up).unwrap() >= c - 1e-12, "kl({q}, {up}) < {c}");
        }
        if low > 0.0 {
            prop_assert!(kl(q, low).unwrap() >= c - 1e-12, "kl({q}, {low}) < {c}");
        }
    }

    #[test]
    fn inverses_are_monotone(((q, c), dq, dc) in (q_and_c(), 0.0..0.1f64, 0.0..1.0f64)) {
        let q2 = (q + dq).min(1.0);
        let c2 = c * (1.0 + dc);
        prop_assert!(kl_inv_upper(q2, c).unwrap() >= kl_inv_upper(q, c).unwrap());
        prop_assert!(kl_inv_upper(q, c2).unwrap() >= kl_inv_upper(q, c).unwrap());
        prop_assert!(kl_inv_lower(q2, c).unwrap() >= kl_inv_lower(q, c).unwrap());
        prop_assert!(kl_inv_lower(q, c2).unwrap() <= kl_inv_lower(q, c).unwrap());
    }
}
