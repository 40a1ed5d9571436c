//! Dziugaite & Roy (2017): one hidden layer of 600 units on binary MNIST (digits 0–4 against 5–9),
//! a data-free prior centred at the (seeded) initialization, its scale σ₀ chosen on a declared grid
//! whose union bound every certificate pays (ln K nats for K scales), the kl bound minimized.
//!
//! `cargo run --release -p experiments --bin binary_mnist -- [--preset quick|paper]`

use experiments::Planned;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The declared grid of prior scales; every run pays ln 4 for the choice among them.
const SCALES: [f64; 4] = [0.003, 0.01, 0.03, 0.1];

fn main() -> anyhow::Result<()> {
    let grid = SCALES.iter().map(f64::to_string).collect::<Vec<_>>().join(", ");
    let plan: Vec<Planned> = SCALES
        .iter()
        .map(|sigma0| {
            let config = format!(
                "[prior]\ndataset = \"binary-mnist\"\narchitecture = \"fcn-binary\"\nkind = \"data-free\"\n\
                 prior_fraction = 0.0\nsigma0 = {sigma0}\nscale_grid = [{grid}]\n\
                 [posterior]\nobjective = \"f-kl\"\n"
            );
            Planned::new(format!("binary-mnist-fcn600-sigma{sigma0}"), config)
        })
        .collect();
    experiments::main("binary_mnist", &plan)
}
