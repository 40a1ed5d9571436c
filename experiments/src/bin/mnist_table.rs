//! The MNIST table of Pérez-Ortiz et al. (2021): FCN and CNN × data-free and learnt prior ×
//! f-quad, f-lambda and f-classic, with Gaussian distributions, and the FCN's rows again with
//! Laplace distributions (as the published table has them), certified with n = |S_bound| and every
//! Monte Carlo term paid.
//!
//! `cargo run --release -p experiments --bin mnist_table -- [--preset quick|paper] [--only TEXT]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    experiments::main("mnist_table", &experiments::plans::mnist_table())
}
