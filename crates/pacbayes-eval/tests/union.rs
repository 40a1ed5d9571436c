//! Complete union bounds: a run chosen among K configurations pays ln K in the KL term and δ′/K in
//! its Monte Carlo term, from the library itself; a record that skips either is rejected even when
//! every downstream number is recomputed to match.

use candle_core::Device;
use pacbayes_bounds::{BoundInputs, BoundKind, Certificate, Ledger, McTerm};
use pacbayes_data::{LinearTeacher, Split, SplitConfig};
use pacbayes_eval::{CertificateRecord, CertifySettings, Error, PriorSummary, RunContext, certify};
use pacbayes_nn::{Architecture, Network};

const K: u64 = 6;

fn record(configurations: u64) -> CertificateRecord {
    let teacher = LinearTeacher::new(vec![1.0, -1.0, 0.5], 0.05).unwrap();
    let data = teacher.train_test(300, 50, 4);
    let split = Split::new(data.train, SplitConfig::new(0.0, 5).unwrap()).unwrap();
    let q =
        Network::from_seed(Architecture::Linear { inputs: 3, classes: 2 }, 0.05, 9, &Device::Cpu).unwrap();
    let settings =
        CertifySettings { repetitions: Some(10), ensemble_size: 2, configurations, ..Default::default() }
            .check()
            .unwrap();
    let context = RunContext {
        run: "k".into(),
        dataset: "synthetic".into(),
        objective: "none".into(),
        prior: PriorSummary {
            kind: "data-free".into(),
            description: "random".into(),
            charges: vec![],
            union_cost_nats: 0.0,
        },
        posterior: serde_json::Value::Null,
        split: split.manifest(),
    };
    certify(&q, split.bound(), &data.test, &settings, &Ledger::new(), context, &()).unwrap()
}

/// Both certificates recomputed from the record's numbers with the given charges and δ′.
fn recompute(r: &mut CertificateRecord, ledger: &Ledger, delta_mc: f64) {
    let redo = |c: &Certificate| {
        let inputs = BoundInputs::new(c.emp_risk, c.kl, c.n, c.delta).unwrap();
        let mc = McTerm::new(c.mc_samples.unwrap(), delta_mc).unwrap();
        Certificate::compute(&inputs, Some(mc), &BoundKind::Kl, ledger).unwrap()
    };
    r.zero_one = redo(&r.zero_one);
    r.cross_entropy = redo(&r.cross_entropy);
    r.charges = ledger.charges().to_vec();
    r.gap = r.zero_one.bound - r.test.stochastic;
}

fn rejected_field(r: &CertificateRecord) -> String {
    match r.verify() {
        Err(Error::Rejected { field, .. }) => field,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn the_library_pays_ln_k_and_delta_mc_over_k() {
    let one = record(1);
    let r = record(K);
    r.verify().unwrap();
    assert!((r.zero_one.union_cost_nats - (K as f64).ln()).abs() < 1e-12);
    assert!((r.zero_one.delta_mc.unwrap() - 0.01 / K as f64).abs() < 1e-18);
    assert!((r.cross_entropy.delta_mc.unwrap() - 0.01 / K as f64).abs() < 1e-18);
    // Same draws, same ê: the selection only loosens the certificate.
    assert_eq!(r.zero_one.emp_risk.to_bits(), one.zero_one.emp_risk.to_bits());
    assert!(r.zero_one.emp_risk_upper > one.zero_one.emp_risk_upper);
    assert!(r.zero_one.bound > one.zero_one.bound);
}

#[test]
fn a_missing_ln_k_is_rejected() {
    let mut r = record(K);
    let delta_mc = r.zero_one.delta_mc.unwrap();
    recompute(&mut r, &Ledger::new(), delta_mc);
    assert_eq!(rejected_field(&r), "charges");
}

#[test]
fn a_missing_delta_mc_over_k_is_rejected() {
    let mut r = record(K);
    let ledger: Ledger = r.charges.iter().cloned().collect();
    recompute(&mut r, &ledger, 0.01);
    assert_eq!(rejected_field(&r), "zero_one.delta_mc");
}

#[test]
fn a_count_of_zero_configurations_is_an_error() {
    let err = CertifySettings { configurations: 0, ..Default::default() }.check().unwrap_err();
    assert!(err.to_string().contains("configurations"), "{err}");
}

/// A certificate re-computed for its selection among K runs equals the one `certify` writes for a
/// run declared one of K configurations, and verifies; declaring K without paying does not.
#[test]
fn selection_among_k_equals_certifying_as_one_of_k() {
    let single = record(1);
    let direct = record(12);
    for (from, k) in [(&single, 12), (&record(3), 4)] {
        let selected = from.selected_among(k).unwrap();
        selected.verify().unwrap();
        assert_eq!(selected.settings.configurations, 12);
        assert_eq!(selected.charges, direct.charges, "one ln 12 charge, the earlier ln K₀ replaced");
        for (a, b) in [
            (selected.zero_one.bound, direct.zero_one.bound),
            (selected.cross_entropy.bound, direct.cross_entropy.bound),
            (selected.heldout.as_ref().unwrap().bound, direct.heldout.as_ref().unwrap().bound),
            (
                selected.disintegrated.as_ref().unwrap().certificate.bound,
                direct.disintegrated.as_ref().unwrap().certificate.bound,
            ),
        ] {
            assert!((a - b).abs() <= 1e-12 * b, "{a} against {b}");
        }
        assert!(selected.zero_one.bound > from.zero_one.bound, "the selection costs something");
    }
    assert!(single.selected_among(0).is_err());
    // Declaring the count without paying for it is rejected.
    let mut unpaid = single.clone();
    unpaid.settings.configurations = 12;
    assert!(unpaid.verify().is_err());
}
