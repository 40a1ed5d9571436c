//! Fashion-MNIST (vendored in `data/fashion-mnist`): the FCN and the CNN of Pérez-Ortiz et al.
//! (2021) with a prior learnt on half of the training set, and the posterior trained on f-quad
//! and on f-kl, certified with n = |S_bound| and every Monte Carlo term paid. Published for
//! comparison: 0.103 (disintegrated bound, Viallard et al. 2023, prior on 70% of the data).
//!
//! `cargo run --release -p experiments --bin fashion_mnist -- [--preset quick|paper] [--only TEXT]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    experiments::main("fashion_mnist", &experiments::plans::fashion_mnist())
}
