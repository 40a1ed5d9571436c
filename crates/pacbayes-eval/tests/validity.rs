//! The certificates hold: on synthetic data with a known Gibbs risk, at most a fraction δ + δ′ of
//! them may fall below the true risk of their posterior.
//!
//! 200 independent training sets of 300 examples from a [`LinearTeacher`] (d = 5, label noise 0.1);
//! each gets its own Q on `linear-5-2`, trained on that set by full-batch gradient descent on the
//! empirical cross-entropy + KL/n from a data-free prior N(0, σ₀²). For a linear-2 network the
//! prediction is class 1 iff D = (w₁ − w₀)·x + (b₁ − b₀) > 0, and under Q, given x, D is exactly
//! Gaussian, so P_Q(error | x) = Φ(±E[D|x]/sd[D|x]) mixed with the label-noise probability given
//! x. The true Gibbs risk is its mean over x ~ N(0, I): estimated on 100,000 fresh examples, with a
//! standard error below 0.0016, far below the slack of the certificates; the empirical Gibbs risk
//! on S_bound is the same formula averaged over S_bound, exactly. The disintegrated certificate of
//! each run's drawn network h is checked the same way against the true risk of h, exact given x,
//! in both of its forms (ln dQ/dP(h), and the Rényi divergence of order 2).

use candle_core::{D, Device, Tensor};
use pacbayes_bounds::Ledger;
use pacbayes_data::{Dataset, LinearTeacher, Split, SplitConfig};
use pacbayes_eval::{
    CertifySettings, CheckedSettings, PriorSummary, Protocol, RunContext, certify, estimate_classic,
    estimate_fast,
};
use pacbayes_nn::{Architecture, GaussianWeights, Mode, Network, Noise};

const D_IN: usize = 5;
const N_TRAIN: usize = 300;
const RUNS: u64 = 200;
const DELTA: f64 = 0.025;
const DELTA_MC: f64 = 0.01;

/// erfc with relative error below 1.2e-7 (Numerical Recipes, §6.2, Chebyshev fit).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

fn phi(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// The law of D = z₁ − z₀ under Q: means and variances of the weight and bias differences.
struct Difference {
    mean_w: Vec<f64>,
    var_w: Vec<f64>,
    mean_b: f64,
    var_b: f64,
}

impl Difference {
    fn of(net: &Network) -> Self {
        let layer = &net.layers()[0];
        let rows = |t: &Tensor| t.to_vec2::<f32>().unwrap();
        let (mu, sigma) = (rows(layer.weight().mu().as_tensor()), rows(&layer.weight().sigma().unwrap()));
        let mu_b = layer.bias().mu().as_tensor().to_vec1::<f32>().unwrap();
        let sigma_b = layer.bias().sigma().unwrap().to_vec1::<f32>().unwrap();
        let sq = |x: f32| f64::from(x).powi(2);
        Self {
            mean_w: (0..D_IN).map(|i| f64::from(mu[1][i]) - f64::from(mu[0][i])).collect(),
            var_w: (0..D_IN).map(|i| sq(sigma[1][i]) + sq(sigma[0][i])).collect(),
            mean_b: f64::from(mu_b[1]) - f64::from(mu_b[0]),
            var_b: sq(sigma_b[1]) + sq(sigma_b[0]),
        }
    }

    /// P_Q(predict class 1 | x).
    fn p_one(&self, x: &[f32]) -> f64 {
        let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let mean = self.mean_b + x.iter().zip(&self.mean_w).map(|(a, b)| a * b).sum::<f64>();
        let var = self.var_b + x.iter().zip(&self.var_w).map(|(a, v)| a * a * v).sum::<f64>();
        phi(mean / var.sqrt())
    }

    /// The true Gibbs risk, estimated on `fresh` with the exact conditional error given each x.
    fn true_risk(&self, teacher: &LinearTeacher, fresh: &Dataset) -> f64 {
        let eta = teacher.label_noise();
        let total: f64 = (0..fresh.len())
            .map(|i| {
                let x = fresh.row(i);
                let clean = teacher.w_star().iter().zip(x).map(|(w, &v)| w * f64::from(v)).sum::<f64>() > 0.0;
                let p_label_one = if clean { 1.0 - eta } else { eta };
                let p = self.p_one(x);
                p * (1.0 - p_label_one) + (1.0 - p) * p_label_one
            })
            .sum();
        total / fresh.len() as f64
    }

    /// The exact empirical Gibbs risk on `data`.
    fn empirical_risk(&self, data: &Dataset) -> f64 {
        let total: f64 = (0..data.len())
            .map(|i| {
                let p = self.p_one(data.row(i));
                if data.labels()[i] == 1 { 1.0 - p } else { p }
            })
            .sum();
        total / data.len() as f64
    }
}

/// The true risk of one deterministic linear-2 network (the drawn h of a disintegrated
/// certificate), estimated on `fresh` with the exact conditional error given each x.
fn true_risk_of_drawn(q: &Network, seed: u64, teacher: &LinearTeacher, fresh: &Dataset) -> f64 {
    let drawn = q.draw(&mut Noise::new(seed)).unwrap();
    let [w, b] = &drawn.weights()[0];
    let (w, b) = (w.to_vec2::<f32>().unwrap(), b.to_vec1::<f32>().unwrap());
    let eta = teacher.label_noise();
    let total: f64 = (0..fresh.len())
        .map(|i| {
            let x = fresh.row(i);
            let z = |c: usize| {
                f64::from(b[c]) + w[c].iter().zip(x).map(|(a, v)| f64::from(*a) * f64::from(*v)).sum::<f64>()
            };
            let predicts_one = z(1) > z(0);
            let clean = teacher.w_star().iter().zip(x).map(|(w, &v)| w * f64::from(v)).sum::<f64>() > 0.0;
            let p_label_one = if clean { 1.0 - eta } else { eta };
            if predicts_one { 1.0 - p_label_one } else { p_label_one }
        })
        .sum();
    total / fresh.len() as f64
}

/// Q trained on `data` from the prior N(0, σ₀²): full-batch gradient descent on mean CE + KL/n.
fn train(data: &Dataset, seed: u64) -> Network {
    let device = Device::Cpu;
    let arch = Architecture::Linear { inputs: D_IN, classes: 2 };
    let zeros = arch
        .params()
        .into_iter()
        .map(|(_, s)| Tensor::zeros(s, candle_core::DType::F32, &device).unwrap())
        .collect();
    let prior = GaussianWeights::from_means(arch, zeros, 0.5).unwrap();
    let net = Network::from_prior(&prior).unwrap();
    let x = Tensor::from_vec(data.features().to_vec(), (data.len(), D_IN), &device).unwrap();
    let y = Tensor::from_vec(data.labels().to_vec(), data.len(), &device).unwrap();
    let mut noise = Noise::new(seed);
    let n = data.len() as f64;
    for _ in 0..40 {
        let (logits, kl) = net.forward_and_kl(&x, Mode::Local, &mut noise).unwrap();
        let log_p = candle_nn::ops::log_softmax(&logits, D::Minus1).unwrap();
        let ce = log_p.gather(&y.unsqueeze(1).unwrap(), 1).unwrap().mean_all().unwrap().neg().unwrap();
        let loss = (ce + (kl / n).unwrap()).unwrap();
        let grads = loss.backward().unwrap();
        for var in net.vars() {
            let g = grads.get(&var).unwrap();
            var.set(&(var.as_tensor() - (g * 0.5).unwrap()).unwrap()).unwrap();
        }
    }
    net
}

/// P(X ≥ k) for X ~ Binomial(n, p), summed exactly.
fn binomial_upper_tail(n: u64, p: f64, k: u64) -> f64 {
    let mut pmf = (1.0 - p).powi(n as i32);
    let mut below = 0.0;
    for j in 0..k {
        below += pmf;
        pmf *= (n - j) as f64 / (j + 1) as f64 * p / (1.0 - p);
    }
    (1.0 - below).max(0.0)
}

fn settings(protocol: Protocol, repetitions: u64, draws: u64) -> CheckedSettings {
    CertifySettings {
        protocol,
        repetitions: Some(repetitions),
        draws,
        delta: DELTA,
        delta_mc: DELTA_MC,
        ensemble_size: 2,
        seed: 11,
        ..Default::default()
    }
    .check()
    .unwrap()
}

fn teacher() -> LinearTeacher {
    LinearTeacher::new(vec![1.0, -0.5, 0.25, 0.8, -1.2], 0.1).unwrap()
}

#[test]
fn certificates_fall_below_the_true_risk_at_most_at_rate_delta() {
    let teacher = teacher();
    let fresh = teacher.sample(100_000, 0xf4e5);
    let settings = settings(Protocol::Fast, 100, 1);
    let (mut below_risk, mut below_emp, mut naive_below) = (0, 0, 0);
    let (mut bounds, mut slack) = (0.0, 0.0);
    // The disintegrated certificate of one drawn network: below its true risk at rate ≤ δ.
    let (mut dis_below, mut dis_naive_below, mut dis_bounds) = (0, 0, 0.0);
    let (mut renyi_below, mut renyi_bounds) = (0, 0.0);
    for run in 0..RUNS {
        let data = teacher.train_test(N_TRAIN, 100, 1_000 + run);
        let q = train(&data.train, run);
        let exact = Difference::of(&q);
        let split = Split::new(data.train.clone(), SplitConfig::new(0.0, run).unwrap()).unwrap();
        let context = RunContext {
            run: format!("run-{run}"),
            dataset: "synthetic".into(),
            objective: "ce + kl/n".into(),
            prior: PriorSummary {
                kind: "data-free".into(),
                description: "N(0, 0.5^2)".into(),
                charges: vec![],
                union_cost_nats: 0.0,
            },
            posterior: serde_json::Value::Null,
            split: split.manifest(),
        };
        let record = certify(&q, split.bound(), &data.test, &settings, &Ledger::new(), context, &()).unwrap();
        record.verify().unwrap();
        assert_eq!(record.n_bound, N_TRAIN as u64);
        let true_risk = exact.true_risk(&teacher, &fresh);
        let emp = exact.empirical_risk(&data.train);
        below_risk += u64::from(record.zero_one.bound < true_risk);
        below_emp += u64::from(record.zero_one.emp_risk_upper < emp);
        naive_below += u64::from(record.zero_one.emp_risk < true_risk);
        bounds += record.zero_one.bound;
        let dis = record.disintegrated.as_ref().expect("a disintegrated certificate");
        let drawn_risk = true_risk_of_drawn(&q, dis.seed, &teacher, &fresh);
        dis_below += u64::from(dis.certificate.bound < drawn_risk);
        dis_naive_below += u64::from(dis.certificate.emp_risk < drawn_risk);
        dis_bounds += dis.certificate.bound;
        let renyi = dis.renyi.as_ref().expect("the Rényi form");
        renyi_below += u64::from(renyi.bound < drawn_risk);
        renyi_bounds += renyi.bound;
        slack += record.zero_one.bound - true_risk;
    }
    let p_value = binomial_upper_tail(RUNS, DELTA + DELTA_MC, below_risk);
    eprintln!(
        "{below_risk}/{RUNS} bounds below the true risk (p = {p_value:.3}), {below_emp}/{RUNS} MC upper values \
         below the exact empirical risk; mean bound {:.4}, mean slack {:.4}",
        bounds / RUNS as f64,
        slack / RUNS as f64
    );
    assert!(p_value >= 0.001, "{below_risk} of {RUNS} certificates below the true risk");
    assert!(binomial_upper_tail(RUNS, DELTA_MC, below_emp) >= 0.001, "{below_emp} MC terms failed");
    // The test has power: the empirical risk alone, an optimistic "bound", is caught.
    assert!(binomial_upper_tail(RUNS, DELTA + DELTA_MC, naive_below) < 0.001, "{naive_below}");
    // Not vacuous: the posterior learnt something and the bound says so.
    assert!(bounds / RUNS as f64 <= 0.45, "mean bound {}", bounds / RUNS as f64);

    // Q depends on all of S (S_bound included) and h is drawn once from Q: the disintegrated
    // theorem covers exactly this, at δ.
    let dis_p = binomial_upper_tail(RUNS, DELTA, dis_below);
    eprintln!(
        "disintegrated: {dis_below}/{RUNS} bounds below the drawn network's true risk (p = {dis_p:.3}), \
         {dis_naive_below}/{RUNS} empirical risks below it; mean bound {:.4}",
        dis_bounds / RUNS as f64
    );
    assert!(dis_p >= 0.001, "{dis_below} of {RUNS} disintegrated certificates below the true risk");
    assert!(binomial_upper_tail(RUNS, DELTA, dis_naive_below) < 0.001, "{dis_naive_below}");
    assert!(dis_bounds / RUNS as f64 <= 0.5, "mean disintegrated bound {}", dis_bounds / RUNS as f64);

    // The Rényi form (α = 2) for the same drawn network: below its true risk at rate ≤ δ.
    let renyi_p = binomial_upper_tail(RUNS, DELTA, renyi_below);
    eprintln!(
        "Rényi form: {renyi_below}/{RUNS} bounds below the drawn network's true risk (p = {renyi_p:.3}); \
         mean bound {:.4}",
        renyi_bounds / RUNS as f64
    );
    assert!(renyi_p >= 0.001, "{renyi_below} of {RUNS} Rényi-form certificates below the true risk");
    assert!(renyi_bounds / RUNS as f64 <= 0.55, "mean Rényi-form bound {}", renyi_bounds / RUNS as f64);
}

#[test]
fn fast_and_classic_protocols_estimate_the_same_gibbs_risk() {
    let teacher = teacher();
    for run in 0..3 {
        let data = teacher.train_test(N_TRAIN, 10, 50_000 + run);
        let q = train(&data.train, run);
        let exact = Difference::of(&q).empirical_risk(&data.train);
        let split = Split::new(data.train.clone(), SplitConfig::new(0.0, run).unwrap()).unwrap();
        let fast = estimate_fast(
            &q,
            split.bound(),
            100,
            &settings(Protocol::Fast, 100, 1),
            &mut Noise::new(run),
            &(),
        )
        .unwrap();
        let classic = estimate_classic(
            &q,
            split.bound(),
            2_000,
            &settings(Protocol::Classic, 1, 2_000),
            &mut Noise::new(run),
            &(),
        )
        .unwrap();
        assert_eq!(fast.mc_samples, 100 * N_TRAIN as u64);
        assert_eq!(classic.mc_samples, 2_000);
        // Means of N independent [0, 1] variables with mean e: standard deviation ≤ √(e(1−e)/N).
        for (estimate, n) in [(fast.zero_one, fast.mc_samples), (classic.zero_one, classic.mc_samples)] {
            let sd = (exact * (1.0 - exact) / n as f64).sqrt();
            assert!((estimate - exact).abs() <= 5.0 * sd, "estimate {estimate}, exact {exact}, sd {sd}");
        }
        let ce = 0.5 * (fast.cross_entropy + classic.cross_entropy);
        let sd = (ce * (1.0 - ce) * (1.0 / fast.mc_samples as f64 + 1.0 / 2_000.0)).sqrt();
        let (f, c) = (fast.cross_entropy, classic.cross_entropy);
        assert!((f - c).abs() <= 5.0 * sd, "bounded CE: fast {f}, classic {c}, sd {sd}");
    }
}
