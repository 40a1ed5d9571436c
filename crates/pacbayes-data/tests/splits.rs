//! Splits: disjointness, stratification, determinism, the manifest; and the synthetic known risk.

use pacbayes_data::{
    Dataset, Error, LinearTeacher, Split, SplitConfig, SplitManifest, check_disjoint, linear_empirical_risk,
};
use proptest::prelude::*;

/// `counts[c]` examples of class `c`, one feature holding the example's own index.
fn dataset(counts: &[usize]) -> Dataset {
    let labels: Vec<u32> =
        counts.iter().enumerate().flat_map(|(c, &n)| std::iter::repeat_n(c as u32, n)).collect();
    let features = (0..labels.len()).map(|i| i as f32).collect();
    Dataset::new("toy", features, vec![1], labels, counts.len() as u32).expect("valid toy data")
}

fn split(counts: &[usize], alpha: f64, validation: f64, seed: u64) -> pacbayes_data::Result<Split> {
    Split::new(dataset(counts), SplitConfig::new(alpha, seed)?.with_validation_fraction(validation)?)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn parts_are_disjoint_sorted_and_stratified(
        counts in proptest::collection::vec(40usize..200, 1..6),
        alpha in 0.1f64..0.9,
        validation in prop_oneof![Just(0.0), 0.2f64..0.5],
        seed in any::<u64>(),
    ) {
        let s = split(&counts, alpha, validation, seed).expect("every class is large enough");
        check_disjoint(&s).expect("disjoint");
        let prior = s.prior();
        let validation_counts = s.validation().map_or(vec![0; counts.len()], |v| v.class_counts());
        let (pc, bc) = (prior.class_counts(), s.bound().class_counts());
        for c in 0..counts.len() {
            let prior_side = pc[c] + validation_counts[c];
            prop_assert_eq!(prior_side + bc[c], counts[c]);
            prop_assert!((prior_side as f64 - alpha * counts[c] as f64).abs() <= 0.5 + 1e-9);
        }
        prop_assert!(prior.indices().windows(2).all(|w| w[0] < w[1]));
        prop_assert!(s.bound().indices().windows(2).all(|w| w[0] < w[1]));
        // The views hand out the examples they index: feature i holds index i.
        let (x, y) = s.bound().example(0);
        let i = s.bound().indices()[0];
        prop_assert!((x[0] - i as f32).abs() < 0.5 && y == s.bound().gather(&[0]).labels[0]);
    }
}

#[test]
fn same_seed_same_manifest_different_seed_different_indices() {
    let a = split(&[300, 200, 100], 0.4, 0.2, 11).expect("split").manifest();
    let b = split(&[300, 200, 100], 0.4, 0.2, 11).expect("split").manifest();
    let c = split(&[300, 200, 100], 0.4, 0.2, 12).expect("split").manifest();
    assert_eq!(a, b);
    assert_eq!((a.n_prior + a.n_validation, a.n_bound), (c.n_prior + c.n_validation, c.n_bound));
    assert_ne!(a.prior_indices_sha256, c.prior_indices_sha256);
    assert_ne!(a.bound_indices_sha256, c.bound_indices_sha256);
    assert_eq!((a.n_train, a.n_prior + a.n_validation, a.n_bound), (600, 240, 360));
    assert_eq!(a.prior_class_counts.iter().sum::<usize>(), a.n_prior);
}

#[test]
fn small_splits_depend_on_the_seed_only() {
    let s = split(&[10], 0.3, 0.0, 0).expect("split");
    let again = split(&[10], 0.3, 0.0, 0).expect("split");
    assert_eq!(s.prior().indices(), again.prior().indices());
    assert_eq!(s.prior().len(), 3);
    let mut other_seeds = (1..20).map(|seed| split(&[10], 0.3, 0.0, seed).expect("split"));
    assert!(other_seeds.any(|o| o.prior().indices() != s.prior().indices()));
}

#[test]
fn alpha_zero_gives_a_data_free_prior() {
    let s = split(&[5, 5], 0.0, 0.0, 0).expect("split");
    assert!(s.prior().is_empty() && s.validation().is_none());
    assert_eq!(s.bound().n(), 10);
    assert_eq!(s.manifest().prior_indices_sha256, pacbayes_data::indices_sha256(&[]));
}

#[test]
fn alpha_outside_unit_interval_is_rejected() {
    for alpha in [1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
        let err = SplitConfig::new(alpha, 0).expect_err("bad alpha");
        assert!(matches!(err, Error::InvalidFraction { name: "prior_fraction", .. }));
        assert!(err.to_string().contains("expected a number in [0, 1)"), "{err}");
    }
    assert!(SplitConfig::new(0.5, 0).and_then(|c| c.with_validation_fraction(1.0)).is_err());
}

#[test]
fn splits_leaving_a_class_or_part_empty_are_rejected() {
    let err = split(&[100, 1], 0.3, 0.0, 0).expect_err("class 1 has one example");
    assert!(matches!(err, Error::EmptyClass { class: 1, part: "prior", .. }), "{err}");
    let err = split(&[100, 3], 0.9, 0.0, 0).expect_err("class 1 all on the prior side");
    assert!(matches!(err, Error::EmptyClass { class: 1, part: "bound", .. }), "{err}");
    assert!(err.to_string().contains("class 1 with no examples in the bound part"), "{err}");
    let err = split(&[10, 0, 10], 0.5, 0.0, 0).expect_err("class 1 absent");
    assert!(matches!(err, Error::EmptyClass { class: 1, part: "train", .. }), "{err}");
    let err = split(&[10, 10], 0.0, 0.2, 0).expect_err("validation from an empty prior part");
    assert!(matches!(err, Error::EmptyPart { part: "validation", .. }), "{err}");
}

#[test]
fn manifest_verifies_and_detects_tampering() {
    let s = split(&[50, 70], 0.5, 0.1, 5).expect("split");
    let m = SplitManifest::from_json(&s.manifest().to_json()).expect("round trip");
    assert_eq!(m, s.manifest());
    let rebuilt = m.verify(dataset(&[50, 70])).expect("verifies");
    assert_eq!(rebuilt.bound().indices(), s.bound().indices());

    let mut forged = m.clone();
    forged.bound_indices_sha256 = m.prior_indices_sha256.clone();
    let err = forged.verify(dataset(&[50, 70])).expect_err("forged hash");
    assert!(matches!(err, Error::ManifestMismatch { field: "bound_indices_sha256", .. }), "{err}");

    let mut other = dataset(&[50, 70]);
    other = other.subset(&(1..120).chain([0]).collect::<Vec<_>>());
    let err = m.verify(other).expect_err("reordered data");
    assert!(matches!(err, Error::ManifestMismatch { field: "content_sha256", .. }), "{err}");
    let json: serde_json::Value = serde_json::from_str(&m.to_json()).expect("json");
    for key in ["prior_fraction", "seed", "n_bound", "n_prior", "content_sha256", "bound_indices_sha256"] {
        assert!(json.get(key).is_some(), "manifest lacks {key}");
    }
}

#[test]
fn known_risk_matches_a_large_independent_sample() {
    let teacher = LinearTeacher::new(vec![1.0, -2.0, 0.5, 0.0, 3.0], 0.1).expect("teacher");
    let sample = teacher.sample(1_000_000, 2024);
    assert_eq!(sample.n_classes(), 2);
    let candidates: [&[f64]; 4] = [
        &[1.0, -2.0, 0.5, 0.0, 3.0],
        &[1.0, 0.0, 0.0, 0.0, 0.0],
        &[0.3, 1.0, -1.0, 2.0, 0.1],
        &[-1.0, 2.0, -0.5, 0.0, -3.0],
    ];
    for w in candidates {
        let exact = teacher.true_risk(w).expect("risk");
        let empirical = linear_empirical_risk(w, &sample).expect("risk");
        // Standard error ≤ 0.5/√1000000 = 5e-4; 1.5e-3 is three standard errors.
        assert!((exact - empirical).abs() < 1.5e-3, "w = {w:?}: exact {exact}, sample {empirical}");
    }
    assert!((teacher.true_risk(candidates[0]).expect("risk") - 0.1).abs() < 1e-12);
    assert!((teacher.true_risk(candidates[3]).expect("risk") - 0.9).abs() < 1e-12);
    assert!(teacher.true_risk(&[0.0; 5]).is_err() && teacher.true_risk(&[1.0]).is_err());
    assert!(LinearTeacher::new(vec![1.0], 0.6).is_err() && LinearTeacher::new(vec![0.0], 0.1).is_err());
}
