//! The disintegrated certificate's parts: ln dQ/dP of a drawn network, its record and its checks.

use candle_core::Device;
use pacbayes_data::{LinearTeacher, Split, SplitConfig};
use pacbayes_eval::{CertifySettings, Error, certify_disintegrated, log_density_ratio};
use pacbayes_nn::{Architecture, Network, Noise};

fn moved_network() -> Network {
    let q = Network::from_seed(Architecture::Linear { inputs: 3, classes: 2 }, 0.2, 9, &Device::Cpu).unwrap();
    for p in q.params() {
        let mu = (p.mu().as_tensor() + 0.3).unwrap();
        let rho = (p.rho().as_tensor() - 0.4).unwrap();
        p.set_posterior(&mu, &rho).unwrap();
    }
    q
}

#[test]
fn the_ratio_is_zero_at_the_prior_and_averages_to_the_kl() {
    let p = Network::from_seed(Architecture::Linear { inputs: 3, classes: 2 }, 0.2, 9, &Device::Cpu).unwrap();
    let h = p.draw(&mut Noise::new(1)).unwrap();
    let r = log_density_ratio(&p.posterior().unwrap(), &p.prior(), h.weights()).unwrap();
    assert!(r.abs() < 1e-5, "{r}");

    // E_{h~Q} ln dQ/dP(h) = KL(Q‖P): the mean of 4,000 draws within 5 standard errors.
    let q = moved_network();
    let (post, prior) = (q.posterior().unwrap(), q.prior());
    let mut noise = Noise::new(2);
    let draws: Vec<f64> = (0..4_000)
        .map(|_| log_density_ratio(&post, &prior, q.draw(&mut noise).unwrap().weights()).unwrap())
        .collect();
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (draws.len() - 1) as f64;
    let kl = q.kl_value().unwrap();
    assert!((mean - kl).abs() <= 5.0 * (var / draws.len() as f64).sqrt(), "mean {mean}, KL {kl}");
}

#[test]
fn a_record_is_recomputed_and_a_lowered_bound_is_rejected() {
    let teacher = LinearTeacher::new(vec![1.0, -1.0, 0.5], 0.05).unwrap();
    let data = teacher.train_test(300, 50, 4);
    let split = Split::new(data.train, SplitConfig::new(0.0, 5).unwrap()).unwrap();
    let q = moved_network();
    let settings = CertifySettings::default().check().unwrap();
    let ledger = pacbayes_bounds::Ledger::new();
    let (d, drawn) = certify_disintegrated(&q, split.bound(), &settings, &ledger, 77).unwrap();
    assert_eq!(d.seed, 77);
    assert!(d.errors <= 300);
    // The same seed draws the same network.
    let again = q.draw(&mut Noise::new(77)).unwrap();
    let (a, b) =
        (drawn.weights()[0][0].to_vec2::<f32>().unwrap(), again.weights()[0][0].to_vec2::<f32>().unwrap());
    assert_eq!(a, b);
    let c = &d.certificate;
    assert!(c.mc_samples.is_none() && (c.emp_risk - d.errors as f64 / 300.0).abs() < 1e-15);
    assert!(c.bound > c.emp_risk && c.bound <= 1.0);
    assert!((c.kl - d.log_density_ratio.max(0.0)).abs() < 1e-12);

    // Inside a certificate record, a lowered bound does not verify.
    let teacher = LinearTeacher::new(vec![1.0, -1.0, 0.5], 0.05).unwrap();
    let data = teacher.train_test(300, 50, 4);
    let split = Split::new(data.train, SplitConfig::new(0.0, 5).unwrap()).unwrap();
    let context = pacbayes_eval::RunContext {
        run: "d".into(),
        dataset: "synthetic".into(),
        objective: "none".into(),
        prior: pacbayes_eval::PriorSummary {
            kind: "data-free".into(),
            description: "random".into(),
            charges: vec![],
            union_cost_nats: 0.0,
        },
        posterior: serde_json::Value::Null,
        split: split.manifest(),
    };
    let settings =
        CertifySettings { repetitions: Some(5), ensemble_size: 2, ..Default::default() }.check().unwrap();
    let record =
        pacbayes_eval::certify(&q, split.bound(), &data.test, &settings, &ledger, context, &()).unwrap();
    record.verify().unwrap();
    let mut tampered = record.clone();
    tampered.disintegrated.as_mut().unwrap().certificate.bound *= 0.9;
    assert!(matches!(tampered.verify(), Err(Error::Rejected { .. })));
    // The Rényi form is recorded and rechecked: a lowered bound, or a lowered divergence with the
    // bound recomputed to match, is caught (the second by `verify --run`, which recomputes the
    // divergence from the files; here the recorded numbers must at least agree with each other).
    let renyi = record.disintegrated.as_ref().unwrap().renyi.clone().expect("a Rényi form");
    assert!((renyi.alpha - 2.0).abs() < 1e-15 && renyi.divergence > 0.0);
    assert!(renyi.bound > record.disintegrated.as_ref().unwrap().certificate.emp_risk && renyi.bound <= 1.0);
    let exact = pacbayes_eval::renyi_divergence(&q.posterior().unwrap(), &q.prior(), 2.0).unwrap();
    assert!((renyi.divergence - exact).abs() <= 1e-9 * exact);
    let mut tampered = record.clone();
    tampered.disintegrated.as_mut().unwrap().renyi.as_mut().unwrap().bound *= 0.9;
    match tampered.verify() {
        Err(Error::Rejected { field, .. }) => assert_eq!(field, "disintegrated.renyi.bound"),
        other => panic!("{other:?}"),
    }
    let mut tampered = record.clone();
    tampered.disintegrated.as_mut().unwrap().renyi.as_mut().unwrap().charges_nats = 0.5;
    match tampered.verify() {
        Err(Error::Rejected { field, .. }) => assert_eq!(field, "disintegrated.renyi"),
        other => panic!("{other:?}"),
    }
    let mut tampered = record;
    tampered.disintegrated.as_mut().unwrap().seed += 1;
    match tampered.verify() {
        Err(Error::Rejected { field, .. }) => assert_eq!(field, "disintegrated.seed"),
        other => panic!("{other:?}"),
    }
}
