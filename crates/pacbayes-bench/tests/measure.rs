//! The timings on small synthetic data: what each figure reports about the work it timed.

use pacbayes_bench::flops::{forward_flop, training_flop};
use pacbayes_bench::{Budget, Result, measure};
use pacbayes_data::{Dataset, LinearTeacher, Split, SplitConfig};
use pacbayes_nn::{Architecture, Mode, Noise};
use pacbayes_posterior::TrainMode;

const LINEAR: Architecture = Architecture::Linear { inputs: 3, classes: 2 };

fn teacher_data(n: usize) -> Result<Dataset> {
    Ok(LinearTeacher::new(vec![1.0, -1.0, 0.5], 0.1).map_err(pacbayes_bench::Error::Data)?.sample(n, 0))
}

#[test]
fn a_prior_epoch_times_the_prior_split_and_scales_to_30000_examples() -> Result<()> {
    let f = measure::prior_epoch(LINEAR, &teacher_data(2_000)?, 400, 1)?;
    // A stratified half of 800 examples: 400 up to the rounding of each class.
    assert!((395..=405).contains(&f.examples_timed), "{}", f.examples_timed);
    assert_eq!(f.steps_timed, f.examples_timed.div_ceil(250));
    assert_eq!((f.epoch_examples, f.flop_per_example), (30_000, training_flop(LINEAR, 1)));
    assert!(f.scaled && f.seconds > 0.0 && f.gflops > 0.0);
    let per_example = f.seconds / 30_000.0;
    assert!((f.examples_per_second * per_example - 1.0).abs() < 1e-9);
    Ok(())
}

#[test]
fn a_posterior_epoch_counts_its_steps_and_both_matrix_paths_of_local_mode() -> Result<()> {
    let split = Split::new(teacher_data(1_000)?, SplitConfig::new(0.5, 0)?)?;
    let local = measure::posterior_epoch(LINEAR, Mode::Local, split.train(), 600, 1)?;
    let sample = measure::posterior_epoch(LINEAR, Mode::Sample, split.train(), 600, 0)?;
    assert_eq!((local.examples_timed, local.steps_timed), (600, 3));
    assert_eq!(local.flop_per_example, 2 * sample.flop_per_example);
    // More examples than the set holds: the whole set, once.
    let all = measure::posterior_epoch(LINEAR, Mode::Sample, split.train(), 5_000, 0)?;
    assert_eq!((all.examples_timed, all.steps_timed), (1_000, 4));
    Ok(())
}

#[test]
fn a_posterior_epoch_through_the_training_crate_runs_one_epoch_of_the_examples() -> Result<()> {
    let data = teacher_data(2_000)?;
    let local = measure::posterior_epoch_trained(LINEAR, TrainMode::Local, &data, 600, 1)?;
    assert_eq!((local.examples_timed, local.steps_timed, local.epoch_examples), (600, 3, 60_000));
    let sample = measure::posterior_epoch_trained(LINEAR, TrainMode::Sample, &data, 600, 0)?;
    assert_eq!(local.flop_per_example, 2 * sample.flop_per_example);
    Ok(())
}

#[test]
fn certificate_timings_cover_the_requested_bound_examples() -> Result<()> {
    let n = 2_500; // |S_bound| = 1,250: one batch of 1,000 is timed, the rest left out
    let features = Noise::new(9).standard_normal(n * 784).iter().map(|v| v.abs().min(1.0)).collect();
    let labels = (0..n as u32).map(|i| i % 10).collect();
    let data = Dataset::new("noise", features, vec![784], labels, 10)?;
    let split = Split::new(data, SplitConfig::new(0.5, 0)?)?;
    let bound: Vec<_> = split.bound().batches(1000).collect();
    let [classic, fast] = measure::certificate(&bound, 1_000, 2, 0)?;
    assert_eq!((classic.examples_timed, classic.steps_timed, classic.epoch_examples), (1_000, 2, 30_000));
    assert_eq!(classic.flop_per_example, forward_flop(Architecture::Fcn, 1));
    assert_eq!(fast.flop_per_example, forward_flop(Architecture::Fcn, 2));
    assert!(classic.seconds > 0.0 && fast.seconds > 0.0);
    Ok(())
}

#[test]
fn the_matrix_product_figure_counts_2n_cubed() -> Result<()> {
    let m = measure::matmul(1)?;
    assert_eq!((m.n, m.flop, m.repetitions), (1024, 2 * 1024_u64.pow(3), 1));
    assert!((m.gflops * m.seconds * 1e9 - m.flop as f64).abs() < 1e-3 * m.flop as f64);
    Ok(())
}

/// `(key, value)` pairs of the budget named `name` in `BUDGETS` of bench.py.
fn python_budget(source: &str, name: &str) -> Vec<(String, usize)> {
    let start = source.find(&format!("\"{name}\": {{")).expect("the budget is in bench.py");
    let body = &source[start..];
    let body = &body[body.find('{').expect("an opening brace") + 1..body.find('}').expect("a closing brace")];
    let mut pairs: Vec<(String, usize)> = body
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once(':').expect("key: value");
            let value = v.trim().replace('_', "").parse().expect("an integer");
            (k.trim().trim_matches('"').to_string(), value)
        })
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn budgets_are_the_pytorch_baselines() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../benches/pytorch/bench.py");
    let source = std::fs::read_to_string(path).expect("benches/pytorch/bench.py is readable");
    for (name, budget) in [("full", Budget::full()), ("quick", Budget::quick())] {
        let json = serde_json::to_value(&budget).expect("serializable");
        let mut ours: Vec<(String, usize)> = json
            .as_object()
            .expect("an object")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().expect("an integer") as usize))
            .collect();
        ours.sort();
        assert_eq!(ours, python_budget(&source, name), "budget {name}");
    }
}
