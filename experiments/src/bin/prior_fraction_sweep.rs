//! How the certificate depends on the data given to the prior (Dziugaite et al. 2021): the MNIST FCN
//! with a prior learnt on a fraction α ∈ {0, 0.1, …, 0.9} of the training set (α = 0: data-free),
//! f-quad, certified on the remaining n = |S_bound| examples.
//!
//! `cargo run --release -p experiments --bin prior_fraction_sweep -- [--preset quick|paper]`

use experiments::Planned;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let plan: Vec<Planned> = (0..10)
        .map(|tenths| {
            let alpha = f64::from(tenths) / 10.0;
            // A learnt prior takes the defaults (σ₀ = 0.005 from the published grid, ln 7 paid;
            // ERM on images shifted by up to 2 pixels); the data-free one σ₀ = 0.03 from that grid.
            let (kind, scale) = if tenths == 0 { ("data-free", "sigma0 = 0.03\n") } else { ("learnt", "") };
            let config = format!(
                "[prior]\ndataset = \"mnist\"\narchitecture = \"fcn\"\nkind = \"{kind}\"\n\
                 prior_fraction = {alpha}\n{scale}[posterior]\nobjective = \"f-quad\"\n"
            );
            Planned::new(format!("mnist-fcn-alpha{alpha:.1}"), config)
        })
        .collect();
    experiments::main("prior_fraction_sweep", &plan)
}
