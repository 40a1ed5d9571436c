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
            let kind = if tenths == 0 { "data-free" } else { "learnt" };
            let config = format!(
                "[prior]\ndataset = \"mnist\"\narchitecture = \"fcn\"\nkind = \"{kind}\"\n\
                 prior_fraction = {alpha}\nsigma0 = 0.03\n[posterior]\nobjective = \"f-quad\"\n"
            );
            Planned::new(format!("mnist-fcn-alpha{alpha:.1}"), config)
        })
        .collect();
    experiments::main("prior_fraction_sweep", &plan)
}
