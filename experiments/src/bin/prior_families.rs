//! The learnt prior's scale families on the MNIST FCN: σ₀ everywhere (`scalar`), σ shaped by the
//! diagonal Fisher of the S_prior loss with one global scale chosen on S_prior's validation slice
//! (`fisher`), one multiple of σ₀ per layer chosen on that slice (`per-layer`), and σ shaped by the
//! spread of SGD snapshots on S_prior around their average, which becomes the mean, with one global
//! scale chosen on that slice (`swag`, diagonal SWA-Gaussian), and the mean and scales of the
//! posterior of f-quad trained on S_prior from the learnt prior, the scales multiplied by a factor
//! chosen on that slice (`pac-bayes`), each × f-quad and f-kl. Every shaped
//! scale is fitted on S_prior alone, so it costs nothing; σ₀ is taken from the published grid (ln 7
//! paid) as in `mnist_table`. The table gives the Gibbs certificate beside the held-out bound of the
//! same prior mean and the disintegrated certificate.
//!
//! `cargo run --release -p experiments --bin prior_families -- [--preset quick|paper] [--only TEXT]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    experiments::main("prior_families", &experiments::plans::prior_families())
}
