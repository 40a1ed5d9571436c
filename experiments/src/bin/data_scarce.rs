//! Where a PAC-Bayes certificate beats the held-out bound of its own prior: the MNIST FCN trained on
//! N ∈ {1,000, 3,000, 10,000, 60,000} training examples in total (a fixed stratified subset,
//! `mnist[N]`; the test set whole), a prior learnt on half of them (α = 0.5), f-quad and f-kl. The
//! held-out bound certifies the prior's mean network on S_bound alone; the posterior is trained on
//! all of S, so it sees the N/2 examples the prior never saw, and pays for them in KL.
//!
//! Every run takes the same number of steps whatever N: the prior 50 · 60,000/N epochs and the
//! posterior 3 · 60,000/N epochs (the quick schedule's counts at N = 60,000), so that a smaller set
//! is not also a shorter training.
//!
//! `cargo run --release -p experiments --bin data_scarce -- [--only TEXT]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    experiments::main("data_scarce", &experiments::plans::data_scarce())
}
