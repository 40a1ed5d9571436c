//! Fashion-MNIST (vendored in `data/fashion-mnist`): the FCN and the CNN of Pérez-Ortiz et al.
//! (2021) with a prior learnt on half of the training set, and the posterior trained on f-quad
//! and on f-kl, certified with n = |S_bound| and every Monte Carlo term paid. Published for
//! comparison: 0.103 (disintegrated bound, Viallard et al. 2023, prior on 70% of the data).
//!
//! `cargo run --release -p experiments --bin fashion_mnist -- [--preset quick|paper] [--only TEXT]`

use experiments::Planned;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let mut plan = Vec::new();
    for architecture in ["fcn", "cnn"] {
        for objective in ["f-quad", "f-kl"] {
            let config = format!(
                "[prior]\ndataset = \"fashion-mnist\"\narchitecture = \"{architecture}\"\nkind = \"learnt\"\n\
                 prior_fraction = 0.5\n{cnn}[posterior]\nobjective = \"{objective}\"\n{cnn_posterior}",
                cnn = if architecture == "cnn" { CNN_PRIOR } else { "" },
                cnn_posterior = if architecture == "cnn" { CNN_POSTERIOR } else { "" },
            );
            plan.push(Planned::new(format!("fashion-mnist-{architecture}-learnt-{objective}"), config));
        }
    }
    experiments::main("fashion_mnist", &plan)
}

/// The CNN's prior, as in `mnist_table`: 20 epochs of ERM on all of S_prior (no validation slice;
/// the last epoch is kept), whatever the preset.
const CNN_PRIOR: &str = "validation_fraction = 0.0\n[prior.training]\nepochs = 20\n";

/// The CNN's posterior, as in `mnist_table` (a CNN epoch costs 9–18 FCN epochs on 2 cores): one
/// epoch with a weight draw per step, 2 repetitions of the fast certificate protocol and a
/// 10-network ensemble.
const CNN_POSTERIOR: &str =
    "epochs = 1\nmode = \"sample\"\n[certificate]\nrepetitions = 2\nensemble_size = 10\n";
