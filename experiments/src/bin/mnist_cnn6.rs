//! The deeper MNIST CNN `cnn6` (four padded 3×3 convolutions, two fully connected layers) with a
//! prior learnt on half of the training set and f-quad, trained and certified as the `cnn` rows of
//! `mnist_table` (20 prior epochs on all of S_prior, one posterior epoch with a weight draw per step,
//! 2 repetitions of the fast protocol), with n = |S_bound| and every Monte Carlo term paid. The table
//! gives the Gibbs certificate beside the held-out bound of the same prior mean and the disintegrated
//! certificate.
//!
//! `cargo run --release -p experiments --bin mnist_cnn6 -- [--preset quick|paper]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    experiments::main("mnist_cnn6", &experiments::plans::mnist_cnn6())
}
