//! The deeper CNN `cnn6` on Fashion-MNIST with a prior learnt on half of the training set and
//! f-quad, trained and certified as the `cnn` rows of `fashion_mnist` (20 prior epochs on all of
//! S_prior, one posterior epoch with a weight draw per step, 2 repetitions of the fast protocol), with
//! n = |S_bound| and every Monte Carlo term paid. The table gives the Gibbs certificate beside the
//! held-out bound of the same prior mean and the disintegrated certificate. Published for comparison:
//! 0.103 (disintegrated bound, Viallard et al. 2023, prior on 70% of the data).
//!
//! `cargo run --release -p experiments --bin fashion_mnist_cnn6 -- [--preset quick|paper]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    experiments::main("fashion_mnist_cnn6", &experiments::plans::fashion_mnist_cnn6())
}
