//! A certificate re-computed for its selection among K runs equals the one `certify` writes for a
//! run declared one of K configurations, and verifies; skipping its charge does not.

use candle_core::Device;
use pacbayes_bounds::Ledger;
use pacbayes_data::{LinearTeacher, Split, SplitConfig};
use pacbayes_eval::{CertificateRecord, CertifySettings, PriorSummary, RunContext, certify};
use pacbayes_nn::{Architecture, Network};

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
        run: "s".into(),
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
