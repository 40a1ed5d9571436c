//! L-BFGS on the full-batch problem: the same optimum as the minibatch solver, and gradients that
//! match finite differences (f-kl included).

mod common;

use argmin::core::{CostFunction, Gradient};
use pacbayes_posterior::{
    FullBatchObjective, ObjectiveKind, PosteriorSettings, TrainOptions, train, train_lbfgs,
};

fn full_batch(objective: ObjectiveKind, epochs: usize) -> pacbayes_posterior::CheckedSettings {
    PosteriorSettings {
        objective,
        epochs,
        batch_size: 10_000,
        learning_rate: 0.05,
        momentum: 0.9,
        fixed_noise: true,
        ..PosteriorSettings::default()
    }
    .check()
    .unwrap()
}

#[test]
fn sgd_and_lbfgs_reach_the_same_optimum() {
    let split = common::split(120);
    let settings = full_batch(ObjectiveKind::FQuad, 1500);
    let (_, by_sgd) = common::network("linear-3-2", 0.3);
    train(&by_sgd, &split, &settings, TrainOptions::default()).unwrap();
    let (_, by_lbfgs) = common::network("linear-3-2", 0.3);
    let outcome = train_lbfgs(&by_lbfgs, &split, &settings, 300).unwrap();
    let at = |net| {
        let f = FullBatchObjective::new(net, &split, &settings).unwrap();
        let x = f.flat().unwrap();
        (f.cost(&x).unwrap(), x, f.gradient(&f.flat().unwrap()).unwrap())
    };
    let (sgd_value, sgd_x, _) = at(&by_sgd);
    let (lbfgs_value, lbfgs_x, lbfgs_grad) = at(&by_lbfgs);
    let (_, start) = common::network("linear-3-2", 0.3);
    let (start_value, _, _) = at(&start);
    assert!(lbfgs_value < start_value - 1e-3, "{start_value} -> {lbfgs_value}");
    assert!((outcome.objective - lbfgs_value).abs() < 1e-6);
    assert!((sgd_value - lbfgs_value).abs() < 1e-4, "SGD {sgd_value} vs L-BFGS {lbfgs_value}");
    let grad_norm = lbfgs_grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    assert!(grad_norm < 1e-3, "gradient norm at the L-BFGS point {grad_norm}");
    let distance = sgd_x.iter().zip(&lbfgs_x).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
    assert!(distance < 0.05, "the two optima are {distance} apart");
}

#[test]
fn gradients_match_finite_differences_for_every_objective() {
    let split = common::split(120);
    for objective in [ObjectiveKind::FKl, ObjectiveKind::FQuad, ObjectiveKind::FClassic, ObjectiveKind::Bbb] {
        let settings = full_batch(objective, 1);
        let (_, net) = common::network("linear-3-2", 0.3);
        // Move away from the prior so that the KL term is not flat.
        train(
            &net,
            &split,
            &PosteriorSettings { epochs: 20, ..settings.settings().clone() }.check().unwrap(),
            TrainOptions::default(),
        )
        .unwrap();
        let f = FullBatchObjective::new(&net, &split, &settings).unwrap();
        let x = f.flat().unwrap();
        let g = f.gradient(&x).unwrap();
        for i in [0, 2, 5, 7, 9, 12, 15] {
            let h = 1e-2;
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (f.cost(&up).unwrap() - f.cost(&down).unwrap()) / (2.0 * h);
            assert!(
                (g[i] - fd).abs() < 2e-3 + 0.05 * fd.abs(),
                "{objective} coordinate {i}: {} vs {fd}",
                g[i]
            );
        }
    }
}
