//! The MNIST FCN with a prior learnt on 80% of the training set, its ERM's learning rate (0.02)
//! chosen on a validation slice of S_prior, f-quad on the quick schedule, with n = |S_bound|, every
//! Monte Carlo term paid and ln 32 for the MNIST FCN certificates with a learnt prior computed so
//! far. The table gives the Gibbs certificate beside the held-out bound of the same prior mean and
//! the disintegrated certificate.
//!
//! `cargo run --release -p experiments --bin mnist_fcn_tuned -- [--preset quick|paper]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    experiments::main("mnist_fcn_tuned", &experiments::plans::mnist_fcn_tuned())
}
