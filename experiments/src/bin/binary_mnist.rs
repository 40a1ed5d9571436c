//! Dziugaite & Roy (2017): one hidden layer of 600 units on binary MNIST (digits 0–4 against 5–9),
//! a data-free prior centred at the (seeded) initialization, its scale σ₀ chosen on a declared grid
//! whose union bound every certificate pays (ln K nats for K scales), the kl bound minimized.
//!
//! As in their paper, Q's mean starts at an SGD solution: 3 warm-up epochs of ERM of the mean
//! network, then the kl bound (f-kl) is minimized from there. Its surrogate is the bounded
//! cross-entropy with p_min = 0.05, closer to the 0-1 loss than 10⁻⁵ is, so that the objective does
//! not trade errors for KL too cheaply. These posterior settings were chosen among
//! [`CONFIGURATIONS`] tried on this data by their certificates, and that choice is paid too.
//!
//! `cargo run --release -p experiments --bin binary_mnist -- [--preset quick|paper]`

use experiments::Planned;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The declared grid of prior scales; every run pays ln 4 for the choice among them.
const SCALES: [f64; 4] = [0.003, 0.01, 0.03, 0.1];

/// The posterior configurations compared by their certificates before these settings were kept:
/// SGD at learning rates 0.001, 0.01 and 0.05 and Adam at 0.001 from the prior; warm-ups of 10
/// epochs at 0.1 and of 3 epochs at 0.05 followed by SGD at 0.005; the same at p_min = 0.05 with
/// SGD at 0.001 and at 0.003 (kept). Every certificate pays ln 8.
const CONFIGURATIONS: u64 = 8;

fn main() -> anyhow::Result<()> {
    let grid = SCALES.iter().map(f64::to_string).collect::<Vec<_>>().join(", ");
    let plan: Vec<Planned> = SCALES
        .iter()
        .map(|sigma0| {
            let config = format!(
                "[prior]\ndataset = \"binary-mnist\"\narchitecture = \"fcn-binary\"\nkind = \"data-free\"\n\
                 prior_fraction = 0.0\nsigma0 = {sigma0}\nscale_grid = [{grid}]\n\
                 [posterior]\nobjective = \"f-kl\"\nepochs = 10\nlearning_rate = 0.003\np_min = 0.05\n\
                 warmup_epochs = 3\nwarmup_learning_rate = 0.05\n\
                 [certificate]\nconfigurations = {CONFIGURATIONS}\n"
            );
            Planned::new(format!("binary-mnist-fcn600-sigma{sigma0}"), config)
        })
        .collect();
    experiments::main("binary_mnist", &plan)
}
