//! The held-out baseline in every certificate: the prior's mean network counted exactly on S_bound,
//! its test-set bound recorded at δ·exp(−charges) for the charges that could change that network,
//! checked by `verify`, and shown in the table.

use candle_core::Device;
use pacbayes_bounds::{Charge, Ledger, binomial_tail_upper};
use pacbayes_data::{LinearTeacher, Split, SplitConfig};
use pacbayes_eval::{
    CertificateRecord, CertifySettings, Error, PriorSummary, RunContext, TightnessTable, certify,
    prior_mean_errors,
};
use pacbayes_nn::{Architecture, Network};

fn record() -> (CertificateRecord, u64) {
    let teacher = LinearTeacher::new(vec![1.0, -1.0, 0.5], 0.05).unwrap();
    let data = teacher.train_test(300, 50, 4);
    let split = Split::new(data.train, SplitConfig::new(0.0, 5).unwrap()).unwrap();
    let q =
        Network::from_seed(Architecture::Linear { inputs: 3, classes: 2 }, 0.05, 9, &Device::Cpu).unwrap();
    // Q's means moved away from the prior's: the baseline must use P's, not Q's.
    for p in q.params() {
        let mu = (p.mu().as_tensor() * -1.0).unwrap();
        p.set_posterior(&mu, &p.rho().as_tensor().copy().unwrap()).unwrap();
    }
    let settings =
        CertifySettings { repetitions: Some(10), ensemble_size: 2, configurations: 3, ..Default::default() }
            .check()
            .unwrap();
    let charge = Charge::choice("sigma0 among 2", 2).unwrap().of_prior_scale();
    let context = RunContext {
        run: "h".into(),
        dataset: "synthetic".into(),
        objective: "none".into(),
        prior: PriorSummary {
            kind: "data-free".into(),
            description: "random".into(),
            union_cost_nats: charge.cost_nats,
            charges: vec![charge],
        },
        posterior: serde_json::Value::Null,
        split: split.manifest(),
    };
    let errors = prior_mean_errors(&q, split.bound(), &settings).unwrap();
    (certify(&q, split.bound(), &data.test, &settings, &Ledger::new(), context, &()).unwrap(), errors)
}

#[test]
fn the_prior_mean_network_is_counted_and_bounded() {
    let (r, errors) = record();
    r.verify().unwrap();
    let h = r.heldout.clone().expect("a held-out baseline");
    assert_eq!((h.errors, h.n), (errors, r.n_bound));
    // ln 3 for the configurations cuts δ; ln 2 for the prior's scale does not (the mean network is
    // the same for every σ₀): δ_h = δ/3.
    assert!((h.delta - 0.025 / 3.0).abs() < 1e-15, "{}", h.delta);
    let expected = binomial_tail_upper(h.errors, h.n, h.delta).unwrap();
    assert_eq!(h.bound.to_bits(), expected.to_bits());
    assert!(h.bound > h.errors as f64 / h.n as f64);

    // The data frame holds them at full precision; the Markdown shows them rounded up.
    let table = TightnessTable::new(std::slice::from_ref(&r));
    let df = table.to_data_frame().unwrap();
    let cell = |name: &str| df.column(name).unwrap().f64().unwrap().get(0).unwrap();
    let d = r.disintegrated.as_ref().expect("a disintegrated certificate");
    assert_eq!(cell("heldout_bound").to_bits(), h.bound.to_bits());
    assert_eq!(cell("advantage").to_bits(), (h.bound - r.zero_one.bound).to_bits());
    assert_eq!(cell("disintegrated_bound").to_bits(), d.certificate.bound.to_bits());
    let markdown = table.to_markdown(&pacbayes_eval::CheckedStyle::default());
    assert!(markdown.contains("held-out") && markdown.contains("disintegrated"), "{markdown}");
    assert!(
        markdown.contains(&pacbayes_eval::show(h.bound, pacbayes_eval::Kind::UpperBound, 4)),
        "{markdown}"
    );
}

#[test]
fn a_lowered_heldout_bound_or_a_full_delta_is_rejected() {
    let (good, _) = record();
    let field = |r: &CertificateRecord| match r.verify() {
        Err(Error::Rejected { field, .. }) => field,
        other => panic!("expected a rejection, got {other:?}"),
    };
    let mut r = good.clone();
    r.heldout.as_mut().unwrap().bound *= 0.99;
    assert_eq!(field(&r), "heldout.bound");
    let mut r = good.clone();
    let h = r.heldout.as_mut().unwrap();
    h.delta = 0.025;
    h.bound = binomial_tail_upper(h.errors, h.n, h.delta).unwrap();
    assert_eq!(field(&r), "heldout.delta");
    // A smaller δ_h (every charge paid, as records of earlier versions did) is only conservative.
    let mut r = good.clone();
    let h = r.heldout.as_mut().unwrap();
    h.delta = 0.025 / 6.0;
    h.bound = binomial_tail_upper(h.errors, h.n, h.delta).unwrap();
    r.verify().unwrap();
    let mut r = good;
    r.heldout.as_mut().unwrap().n += 1;
    assert_eq!(field(&r), "heldout.n");
}
