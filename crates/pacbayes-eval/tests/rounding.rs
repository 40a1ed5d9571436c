//! Shown values never flatter: an upper bound is shown at or above its value, a lower bound at or
//! below, each within one unit of the last digit shown.

use pacbayes_eval::{Kind, show};
use proptest::prelude::*;

fn unit(decimals: usize) -> f64 {
    10f64.powi(-(decimals as i32))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn an_upper_bound_is_shown_at_or_above_it(x in 0.0f64..=1.0, decimals in 0usize..10) {
        let s = show(x, Kind::UpperBound, decimals);
        let shown: f64 = s.parse().unwrap();
        prop_assert!(shown >= x, "{x} shown as {s}");
        // Within one unit of the last digit (the slack covers the rounding of the subtraction).
        prop_assert!(shown - x <= unit(decimals) * (1.0 + 1e-9), "{x} shown as {s}");
        prop_assert_eq!(s.split('.').nth(1).map_or(0, str::len), decimals);
    }

    #[test]
    fn a_lower_bound_is_shown_at_or_below_it(x in -1.0f64..=1.0, decimals in 0usize..10) {
        let s = show(x, Kind::LowerBound, decimals);
        let shown: f64 = s.parse().unwrap();
        prop_assert!(shown <= x, "{x} shown as {s}");
        prop_assert!(x - shown <= unit(decimals) * (1.0 + 1e-9), "{x} shown as {s}");
    }

    #[test]
    fn other_figures_are_shown_to_the_nearest(x in -1.0f64..=1.0, decimals in 0usize..10) {
        let shown: f64 = show(x, Kind::Estimate, decimals).parse().unwrap();
        prop_assert!((shown - x).abs() <= unit(decimals) * (0.5 + 1e-9));
    }

    #[test]
    fn tiny_bounds_round_up_to_the_first_unit(k in 1u32..1000, decimals in 1usize..8) {
        // A bound a hair above a value with `decimals` digits is shown one unit higher.
        let exact = f64::from(k) * unit(decimals);
        let above = exact + exact * 1e-12;
        let shown: f64 = show(above, Kind::UpperBound, decimals).parse().unwrap();
        prop_assert!(shown >= above);
    }
}

#[test]
fn the_example_of_the_issue() {
    // A certificate of 0.020916 was shown as 0.0209 by rounding to the nearest.
    assert_eq!(show(0.020916, Kind::UpperBound, 4), "0.0210");
    assert_eq!(show(0.020916, Kind::UpperBound, 3), "0.021");
}
