//! The runs of every experiment binary, as typed configurations laid over the schedule's preset.
//!
//! Each function lists the runs of one binary of `src/bin/` (see their documentation for the
//! experiments' designs); their names and settings are those of the committed tables in
//! `experiments/results/`.

use pacbayes_pipeline::{PUBLISHED_SCALE_GRID, PriorKind, RunConfig};
use pacbayes_posterior::{LearningRateSchedule, ObjectiveKind, TrainMode};
use pacbayes_prior::{PUBLISHED_LEARNING_RATE, ScaleFamily};

use crate::Planned;

/// `binary_mnist`: the posterior configurations compared by their certificates before the kept
/// settings were chosen:
/// - from the prior, SGD at learning rates 0.001, 0.01 and 0.05 and Adam at 0.001;
/// - warm-ups of 10 epochs at 0.1 and of 3 epochs at 0.05 followed by SGD at 0.005; the same at
///   p_min = 0.05 with 10 epochs of SGD at 0.001 and at 0.003;
/// - a warm-up of 3 epochs at 0.01, then p_min = 0.05 and SGD at 0.005 annealed by a cosine
///   schedule, for 30 epochs and for 100 (kept).
///
/// The count, 10, is rounded up to 16, and every certificate pays ln 16. The prior scale is paid
/// apart, by the grid.
pub const BINARY_MNIST_CONFIGURATIONS: u64 = 16;

/// `data_scarce`: training-set sizes, smallest first.
pub const DATA_SCARCE_SIZES: [usize; 4] = [1_000, 3_000, 10_000, 60_000];

/// The objectives of the published tables: f-quad, f-lambda and f-classic.
const PUBLISHED_OBJECTIVES: [ObjectiveKind; 3] =
    [ObjectiveKind::FQuad, ObjectiveKind::FLambda, ObjectiveKind::FClassic];

/// f-quad and the kl bound f-kl.
const QUAD_AND_KL: [ObjectiveKind; 2] = [ObjectiveKind::FQuad, ObjectiveKind::FKl];

/// The prior of a run: dataset, architecture, kind and α; its ERM at the published learning rate,
/// at which every committed table was made (the tuned plans set their own).
fn prior(c: &mut RunConfig, dataset: &str, architecture: &str, kind: PriorKind, alpha: f64) {
    c.prior.training.learning_rate = PUBLISHED_LEARNING_RATE;
    c.prior.dataset = dataset.into();
    c.prior.architecture = architecture.into();
    c.prior.kind = kind;
    c.prior.prior_fraction = alpha;
}

/// A CNN's prior: 20 epochs of ERM on all of S_prior (no validation slice; the last epoch is kept),
/// whatever the preset.
fn cnn_prior(c: &mut RunConfig) {
    c.prior.validation_fraction = 0.0;
    c.prior.training.epochs = 20;
}

/// A prior whose ERM runs at `learning_rate` and keeps the epoch of lowest error on a validation
/// slice of 5% of S_prior: the settings of the tuned experiments, chosen on S_prior alone.
fn tuned_erm(c: &mut RunConfig, learning_rate: f64) {
    c.prior.validation_fraction = 0.05;
    c.prior.training.learning_rate = learning_rate;
}

/// A CNN epoch costs 9–18 FCN epochs on 2 cores (BENCHMARKS.md), so a CNN's posterior runs one
/// epoch with a weight draw per step (as the reference code trains it), and its certificate takes 2
/// repetitions of the fast protocol (about 60,000 draws) and a 10-network ensemble.
fn cnn_posterior(c: &mut RunConfig) {
    c.posterior.epochs = 1;
    c.posterior.mode = TrainMode::Sample;
    c.certificate.repetitions = Some(2);
    c.certificate.ensemble_size = 10;
}

/// A learnt prior takes the defaults: σ₀ = 0.005 from the published grid (ln 7 paid), ERM on images
/// shifted by up to 2 pixels. A data-free prior takes σ₀ = 0.03 from the same grid.
fn published_scale(c: &mut RunConfig) {
    if c.prior.kind != PriorKind::Learnt {
        c.prior.sigma0 = 0.03;
    }
}

/// The posterior of a data-free prior, after Dziugaite & Roy (2017): Q's mean warmed up by 3 epochs
/// of ERM at lr 0.01, then f-kl (p_min = 0.05) for 100 epochs of SGD at lr 0.005 annealed by a
/// cosine schedule; every certificate pays for the `configurations` tried on the data.
fn data_free_posterior(c: &mut RunConfig, configurations: u64) {
    c.posterior.objective = ObjectiveKind::FKl;
    c.posterior.epochs = 100;
    c.posterior.learning_rate = 0.005;
    c.posterior.learning_rate_schedule = LearningRateSchedule::Cosine;
    c.posterior.p_min = 0.05;
    c.posterior.warmup_epochs = 3;
    c.posterior.warmup_learning_rate = 0.01;
    c.certificate.configurations = configurations;
}

/// Dziugaite & Roy (2017) on binary MNIST: a data-free prior centred at the seeded initialization,
/// σ₀ = 0.05 from the published grid [`PUBLISHED_SCALE_GRID`] (ln 7 paid), Q's mean warmed up by 3
/// epochs of ERM at lr 0.01, then the kl bound (f-kl, p_min = 0.05) minimized for 100 epochs of SGD
/// at lr 0.005 annealed by a cosine schedule.
pub fn binary_mnist() -> Vec<Planned> {
    vec![Planned::new("binary-mnist-fcn600-data-free-f-kl", |c: &mut RunConfig| {
        prior(c, "binary-mnist", "fcn-binary", PriorKind::DataFree, 0.0);
        c.prior.sigma0 = 0.05;
        c.prior.scale_grid = PUBLISHED_SCALE_GRID.to_vec();
        data_free_posterior(c, BINARY_MNIST_CONFIGURATIONS);
    })]
}

/// `mnist_data_free`: the posterior configurations tried on this data before the kept settings
/// were chosen by their certificates. Each has 3 warm-up epochs and f-kl:
/// - warm-up at lr 0.05, p_min = 0.05: σ₀ = 0.03 and 10 epochs at lr 0.003; σ₀ = 0.1 and 20 epochs
///   at 0.005; σ₀ = 0.03 and 30 epochs at 0.005, with a constant and with a cosine schedule;
/// - the last with p_min = 0.2 (stopped: Q fell back to the prior);
/// - the last with a warm-up at lr 0.01; the same with p_min = 0.1 (stopped: 55% training error
///   after 3 epochs) and with 100 epochs (kept);
/// - after the kept one: Adam at lr 0.0001 for 30 epochs (cosine schedule) from the same warm-up.
///
/// The count, 9, is every certificate's ln 9. The prior scale is paid apart, by the grid (σ₀ =
/// 0.02 and 0.05 were tried with the 30-epoch settings).
pub const MNIST_DATA_FREE_CONFIGURATIONS: u64 = 9;

/// `mnist_data_free`: the MNIST FCN (784-600-600-600-10) with a data-free prior at its seeded
/// initialization, σ₀ = 0.03 from the published grid [`PUBLISHED_SCALE_GRID`] (ln 7 paid), Q's mean
/// warmed up by 3 epochs of ERM at lr 0.01 (Dziugaite & Roy 2017, as in [`binary_mnist`]), then
/// f-kl with p_min = 0.05 for 100 epochs of SGD at lr 0.005, annealed by a cosine schedule.
pub fn mnist_data_free() -> Vec<Planned> {
    vec![Planned::new("mnist-fcn-data-free-warm-f-kl", |c: &mut RunConfig| {
        prior(c, "mnist", "fcn", PriorKind::DataFree, 0.0);
        c.prior.sigma0 = 0.03;
        c.prior.scale_grid = PUBLISHED_SCALE_GRID.to_vec();
        data_free_posterior(c, MNIST_DATA_FREE_CONFIGURATIONS);
    })]
}

/// CIFAR-10 (`dataset`: `cifar10:DIR`) with the 9-, 13- and 15-layer CNNs, a prior learnt on half
/// of the training set, f-quad, f-lambda and f-classic; the posterior and certificate as for the
/// MNIST CNN, the prior's ERM at its defaults but for the published learning rate.
pub fn cifar10_table(dataset: &str) -> Vec<Planned> {
    let mut plan = Vec::new();
    for architecture in ["cnn9", "cnn13", "cnn15"] {
        for objective in PUBLISHED_OBJECTIVES {
            let dataset = dataset.to_owned();
            plan.push(Planned::new(
                format!("cifar10-{architecture}-learnt-{objective}"),
                move |c: &mut RunConfig| {
                    prior(c, &dataset, architecture, PriorKind::Learnt, 0.5);
                    c.posterior.objective = objective;
                    cnn_posterior(c);
                },
            ));
        }
    }
    plan
}

/// The MNIST FCN on N training examples (`mnist[N]`), a prior learnt on half of them, f-quad and
/// f-kl, every run as many steps whatever N: the prior 50 · 60,000/N epochs and the posterior
/// 3 · 60,000/N epochs.
pub fn data_scarce() -> Vec<Planned> {
    let mut plan = Vec::new();
    for n in DATA_SCARCE_SIZES {
        let dataset = if n == 60_000 { "mnist".to_owned() } else { format!("mnist[{n}]") };
        let (prior_epochs, posterior_epochs) = (50 * 60_000 / n, 3 * 60_000 / n);
        for objective in QUAD_AND_KL {
            let dataset = dataset.clone();
            plan.push(Planned::new(format!("mnist{n}-fcn-learnt-{objective}"), move |c: &mut RunConfig| {
                prior(c, &dataset, "fcn", PriorKind::Learnt, 0.5);
                c.prior.training.epochs = prior_epochs;
                c.posterior.objective = objective;
                c.posterior.epochs = posterior_epochs;
            }));
        }
    }
    plan
}

/// `prior_families`: the scale families of a learnt prior, each fitted on S_prior alone.
pub const PRIOR_FAMILIES: [ScaleFamily; 5] = [
    ScaleFamily::Scalar,
    ScaleFamily::Fisher,
    ScaleFamily::PerLayer,
    ScaleFamily::Swag,
    ScaleFamily::PacBayes,
];

/// The MNIST FCN, then the CNN, with a prior learnt on half of the training set whose scale is σ₀
/// everywhere, shaped by the diagonal Fisher of S_prior, set per layer, shaped by the spread of SGD
/// snapshots on S_prior around their average (which becomes the mean), or taken with the mean from
/// the posterior of a bound trained on S_prior, × f-quad and f-kl. The CNN's prior is 20 epochs of
/// ERM with the validation slice the scales are chosen on; its posterior and certificate as in
/// [`mnist_table`].
pub fn prior_families() -> Vec<Planned> {
    let mut plan = Vec::new();
    for architecture in ["fcn", "cnn"] {
        for scale in PRIOR_FAMILIES {
            for objective in QUAD_AND_KL {
                plan.push(Planned::new(
                    format!("mnist-{architecture}-{scale}-{objective}"),
                    move |c: &mut RunConfig| {
                        prior(c, "mnist", architecture, PriorKind::Learnt, 0.5);
                        c.prior.scale = scale;
                        c.posterior.objective = objective;
                        if architecture == "cnn" {
                            c.prior.training.epochs = 20;
                            cnn_posterior(c);
                        }
                    },
                ));
            }
        }
    }
    plan
}

/// Fashion-MNIST: the FCN and the CNN with a prior learnt on half of the training set, f-quad and
/// f-kl; the CNN's prior and posterior as in [`mnist_table`].
pub fn fashion_mnist() -> Vec<Planned> {
    let mut plan = Vec::new();
    for architecture in ["fcn", "cnn"] {
        for objective in QUAD_AND_KL {
            plan.push(Planned::new(
                format!("fashion-mnist-{architecture}-learnt-{objective}"),
                move |c: &mut RunConfig| {
                    prior(c, "fashion-mnist", architecture, PriorKind::Learnt, 0.5);
                    c.posterior.objective = objective;
                    if architecture == "cnn" {
                        cnn_prior(c);
                        cnn_posterior(c);
                    }
                },
            ));
        }
    }
    plan
}

/// The MNIST table of Pérez-Ortiz et al. (2021): FCN and CNN × learnt (α = 0.5) and data-free
/// (α = 0) prior × f-quad, f-lambda and f-classic, with Gaussian distributions; then the FCN's rows
/// with Laplace distributions, trained and certified with a weight draw per step and per example (2
/// repetitions of the fast protocol).
pub fn mnist_table() -> Vec<Planned> {
    let mut plan = Vec::new();
    for architecture in ["fcn", "cnn"] {
        // A data-free prior leaves all of S to the bound (α = 0), as in the published table.
        for (kind, alpha) in [(PriorKind::Learnt, 0.5), (PriorKind::DataFree, 0.0)] {
            for objective in PUBLISHED_OBJECTIVES {
                plan.push(Planned::new(
                    format!("mnist-{architecture}-{kind}-{objective}"),
                    move |c: &mut RunConfig| {
                        prior(c, "mnist", architecture, kind, alpha);
                        published_scale(c);
                        c.posterior.objective = objective;
                        if architecture == "cnn" {
                            cnn_prior(c);
                            cnn_posterior(c);
                        }
                    },
                ));
            }
        }
    }
    for (kind, alpha) in [(PriorKind::Learnt, 0.5), (PriorKind::DataFree, 0.0)] {
        for objective in PUBLISHED_OBJECTIVES {
            plan.push(Planned::new(
                format!("mnist-fcn-laplace-{kind}-{objective}"),
                move |c: &mut RunConfig| {
                    prior(c, "mnist", "fcn", kind, alpha);
                    c.prior.distribution = pacbayes_nn::Family::Laplace;
                    published_scale(c);
                    c.posterior.objective = objective;
                    // Laplace weights have no local reparameterization.
                    c.posterior.mode = TrainMode::Sample;
                    c.certificate.repetitions = Some(2);
                },
            ));
        }
    }
    plan
}

/// `mnist_cnn6`: the certificates compared before the kept settings: α = 0.5 with the CNN's
/// prior of [`mnist_table`] (ERM at lr 0.005), and α = 0.8 with ERM at lr 0.02 (kept). Every
/// certificate pays ln 2.
pub const MNIST_CNN6_CONFIGURATIONS: u64 = 2;

/// `mnist_cnn6`: the deeper MNIST CNN `cnn6` with a prior learnt on 80% of the training set (its
/// ERM at lr 0.02 for 20 epochs, the epoch of lowest error kept on a validation slice of 5% of
/// S_prior) and f-quad; its posterior and certificate as the `cnn` rows of [`mnist_table`].
pub fn mnist_cnn6() -> Vec<Planned> {
    vec![Planned::new("mnist-cnn6-alpha0.8-learnt-f-quad", |c: &mut RunConfig| {
        prior(c, "mnist", "cnn6", PriorKind::Learnt, 0.8);
        c.posterior.objective = ObjectiveKind::FQuad;
        cnn_prior(c);
        tuned_erm(c, 0.02);
        cnn_posterior(c);
        c.certificate.configurations = MNIST_CNN6_CONFIGURATIONS;
    })]
}

/// `fashion_mnist_cnn6`: `cnn6` on Fashion-MNIST with a prior learnt on half of the training set
/// and f-quad, trained and certified as the `cnn` rows of [`fashion_mnist`].
pub fn fashion_mnist_cnn6() -> Vec<Planned> {
    vec![Planned::new("fashion-mnist-cnn6-learnt-f-quad", |c: &mut RunConfig| {
        prior(c, "fashion-mnist", "cnn6", PriorKind::Learnt, 0.5);
        c.posterior.objective = ObjectiveKind::FQuad;
        cnn_prior(c);
        cnn_posterior(c);
    })]
}

/// `fashion_mnist_tuned`: the Fashion-MNIST certificates computed before this one (the four rows
/// of [`fashion_mnist`] and the row of [`fashion_mnist_cnn6`]) and this one, 6 in all: every
/// certificate pays ln 6.
pub const FASHION_MNIST_TUNED_CONFIGURATIONS: u64 = 6;

/// `fashion_mnist_tuned`: the CNN on Fashion-MNIST with a prior learnt on 70% of the training set
/// (as Viallard et al. 2023) and f-quad. Its ERM settings were chosen by the validation error on a
/// slice of S_prior (free: S_bound is not looked at): 10 epochs at lr 0.05, no dropout, no shifts,
/// mirrored images, the epoch of lowest error kept on a validation slice of 5% of S_prior. The
/// posterior and certificate as the `cnn` rows of [`fashion_mnist`].
pub fn fashion_mnist_tuned() -> Vec<Planned> {
    vec![Planned::new("fashion-mnist-cnn-alpha0.7-tuned-f-quad", |c: &mut RunConfig| {
        prior(c, "fashion-mnist", "cnn", PriorKind::Learnt, 0.7);
        c.posterior.objective = ObjectiveKind::FQuad;
        tuned_erm(c, 0.05);
        let t = &mut c.prior.training;
        (t.epochs, t.dropout, t.shift, t.flip) = (10, 0.0, Some(0), Some(true));
        cnn_posterior(c);
        c.certificate.configurations = FASHION_MNIST_TUNED_CONFIGURATIONS;
    })]
}

/// `mnist_fcn_tuned`: the MNIST FCN certificates with a learnt prior on all 60,000 training
/// examples — the 3 learnt rows of [`mnist_table`] and their 3 Laplace rows (counted although
/// they were certified after this one), the 9 learnt rows of [`prior_fraction_sweep`], the 10 of
/// [`prior_families`] and the 2 of [`data_scarce`] at N = 60,000 — and this one, 28 in all,
/// rounded up to 32: every certificate pays ln 32.
pub const MNIST_FCN_TUNED_CONFIGURATIONS: u64 = 32;

/// `mnist_fcn_tuned`: the MNIST FCN with a prior learnt on 80% of the training set and f-quad,
/// the quick schedule otherwise. Its ERM's learning rate, 0.02 (4× the published rate; the
/// default since `03135ca`), was chosen by the error on a validation slice of S_prior (free:
/// S_bound is not looked at); the epoch of lowest error is kept on a validation slice of 5% of
/// S_prior.
pub fn mnist_fcn_tuned() -> Vec<Planned> {
    vec![Planned::new("mnist-fcn-alpha0.8-tuned-f-quad", |c: &mut RunConfig| {
        prior(c, "mnist", "fcn", PriorKind::Learnt, 0.8);
        c.posterior.objective = ObjectiveKind::FQuad;
        tuned_erm(c, 0.02);
        c.certificate.configurations = MNIST_FCN_TUNED_CONFIGURATIONS;
    })]
}

/// The MNIST FCN with a prior learnt on a fraction α ∈ {0, 0.1, …, 0.9} of the training set (α = 0:
/// data-free, σ₀ = 0.03), f-quad.
pub fn prior_fraction_sweep() -> Vec<Planned> {
    (0..10)
        .map(|tenths| {
            let alpha = f64::from(tenths) / 10.0;
            let kind = if tenths == 0 { PriorKind::DataFree } else { PriorKind::Learnt };
            Planned::new(format!("mnist-fcn-alpha{alpha:.1}"), move |c: &mut RunConfig| {
                prior(c, "mnist", "fcn", kind, alpha);
                published_scale(c);
                c.posterior.objective = ObjectiveKind::FQuad;
            })
        })
        .collect()
}
