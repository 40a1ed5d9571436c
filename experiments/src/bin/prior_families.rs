//! The learnt prior's scale families on the MNIST FCN: σ₀ everywhere (`scalar`), σ shaped by the
//! diagonal Fisher of the S_prior loss with one global scale chosen on S_prior's validation slice
//! (`fisher`), and one multiple of σ₀ per layer chosen on that slice (`per-layer`), each × f-quad and
//! f-kl. Every shaped scale is fitted on S_prior alone, so it costs nothing; σ₀ is taken from the
//! published grid (ln 7 paid) as in `mnist_table`. The table gives the Gibbs certificate beside the
//! held-out bound of the same prior mean and the disintegrated certificate.
//!
//! `cargo run --release -p experiments --bin prior_families -- [--preset quick|paper] [--only TEXT]`

use experiments::Planned;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The scale families of a learnt prior, as `[prior] scale` names them.
const SCALES: [&str; 3] = ["scalar", "fisher", "per-layer"];

fn main() -> anyhow::Result<()> {
    let mut plan = Vec::new();
    for scale in SCALES {
        for objective in ["f-quad", "f-kl"] {
            let config = format!(
                "[prior]\ndataset = \"mnist\"\narchitecture = \"fcn\"\nkind = \"learnt\"\n\
                 prior_fraction = 0.5\nscale = \"{scale}\"\n[posterior]\nobjective = \"{objective}\"\n"
            );
            plan.push(Planned::new(format!("mnist-fcn-{scale}-{objective}"), config));
        }
    }
    experiments::main("prior_families", &plan)
}
