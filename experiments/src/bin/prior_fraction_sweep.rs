//! How the certificate depends on the data given to the prior (Dziugaite et al. 2021): the MNIST FCN
//! with a prior learnt on a fraction α ∈ {0, 0.1, …, 0.9} of the training set (α = 0: data-free),
//! f-quad, certified on the remaining n = |S_bound| examples.
//!
//! `cargo run --release -p experiments --bin prior_fraction_sweep -- [--preset quick|paper]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    experiments::main("prior_fraction_sweep", &experiments::plans::prior_fraction_sweep())
}
