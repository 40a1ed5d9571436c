//! The CNN on Fashion-MNIST with a prior learnt on 70% of the training set (as Viallard et al.
//! 2023), its ERM settings chosen on a validation slice of S_prior (10 epochs at lr 0.05, no
//! dropout, no shifts, mirrored images), f-quad, one posterior epoch with a weight draw per step and
//! 2 repetitions of the fast protocol, with n = |S_bound|, every Monte Carlo term paid and ln 6 for
//! the six Fashion-MNIST certificates computed so far. The table gives the Gibbs certificate beside
//! the held-out bound of the same prior mean and the disintegrated certificate. Published for
//! comparison: 0.103 (disintegrated bound, Viallard et al. 2023, prior on 70% of the data).
//!
//! `cargo run --release -p experiments --bin fashion_mnist_tuned -- [--preset quick|paper]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    experiments::main("fashion_mnist_tuned", &experiments::plans::fashion_mnist_tuned())
}
