//! One measured figure, scaled from the examples timed to a whole epoch.

use serde::{Deserialize, Serialize};

/// Seconds per epoch (or per pass over S_bound) and the throughput behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Seconds per `epoch_examples` examples.
    pub seconds: f64,
    /// The examples of a whole epoch (or of S_bound).
    pub epoch_examples: usize,
    /// The examples actually timed.
    pub examples_timed: usize,
    /// The steps (batches) timed.
    pub steps_timed: usize,
    /// Whether `seconds` was scaled from fewer examples than an epoch.
    pub scaled: bool,
    /// Examples per second.
    pub examples_per_second: f64,
    /// Dense FLOPs per example (see [`crate::flops`]).
    pub flop_per_example: u64,
    /// Achieved dense GFLOP/s.
    pub gflops: f64,
}

impl Figure {
    /// The figure of `examples_timed` examples in `steps` steps that took `seconds_timed`, scaled
    /// linearly to `epoch_examples`.
    ///
    /// ```
    /// let f = pacbayes_bench::Figure::scaled(2.0, 500, 2, 60_000, 1_000_000);
    /// assert!((f.seconds - 240.0).abs() < 1e-9 && f.scaled);
    /// assert!((f.examples_per_second - 250.0).abs() < 1e-9);
    /// assert!((f.gflops - 0.25).abs() < 1e-12);
    /// ```
    pub fn scaled(
        seconds_timed: f64,
        examples_timed: usize,
        steps: usize,
        epoch_examples: usize,
        flop_per_example: u64,
    ) -> Self {
        let per_example = seconds_timed / examples_timed as f64;
        Self {
            seconds: per_example * epoch_examples as f64,
            epoch_examples,
            examples_timed,
            steps_timed: steps,
            scaled: examples_timed != epoch_examples,
            examples_per_second: 1.0 / per_example,
            flop_per_example,
            gflops: flop_per_example as f64 / per_example / 1e9,
        }
    }
}

/// The plain f32 matrix product of the same run: the practical ceiling of the machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatmulFigure {
    /// Seconds per product.
    pub seconds: f64,
    /// Side of the square matrices.
    pub n: usize,
    /// Timed products.
    pub repetitions: usize,
    /// FLOPs of one product, 2n³.
    pub flop: u64,
    /// Achieved GFLOP/s.
    pub gflops: f64,
}
