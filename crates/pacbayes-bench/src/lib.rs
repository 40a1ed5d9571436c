//! The pacbayes side of the speed benchmark of issue 8: the figures that
//! `benches/pytorch/bench.py` measures on PyTorch, measured on pacbayes with the same budgets and
//! written with the same JSON keys, so that `benches/compare.py` can divide one by the other.
//!
//! ```
//! use pacbayes_bench::{Figure, measure};
//! use pacbayes_data::{LinearTeacher, Split, SplitConfig};
//! use pacbayes_nn::{Architecture, Mode};
//!
//! // A posterior epoch (f-quad, batch 250) of a linear model on synthetic data, timed over 500
//! // examples after one warm-up step and scaled to the 60,000 examples of an MNIST epoch.
//! let data = LinearTeacher::new(vec![1.0, -1.0, 0.5], 0.1)?.sample(1_000, 0);
//! let split = Split::new(data, SplitConfig::new(0.5, 0)?)?;
//! let arch = Architecture::Linear { inputs: 3, classes: 2 };
//! let f: Figure = measure::posterior_epoch(arch, Mode::Local, split.train(), 500, 1)?;
//! assert_eq!((f.examples_timed, f.steps_timed, f.epoch_examples), (500, 2, 60_000));
//! assert!(f.scaled && f.seconds > 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The binary `pacbayes-bench` runs every figure on MNIST ([`report::run`]):
//! `cargo run --release -p pacbayes-bench -- --json OUT [--threads 2] [--quick]`.

mod error;

pub mod budget;
pub mod figure;
pub mod flops;
pub mod measure;
pub mod posterior;
pub mod report;

pub use budget::Budget;
pub use error::{Error, Result};
pub use figure::{Figure, MatmulFigure};
pub use report::{PosteriorPath, Report};
