//! CIFAR-10 with the 9-, 13- and 15-layer CNNs of Pérez-Ortiz et al. (2021): a prior learnt on
//! half of the training set (random crops with padding 4 and horizontal flips, images normalized
//! per channel with statistics of the prior side only), the posterior trained on f-quad, f-lambda
//! and f-classic, certified with n = |S_bound|.
//!
//! CIFAR-10 is not shipped: put the binary version's six files (`data_batch_1.bin` …
//! `data_batch_5.bin`, `test_batch.bin`, from `cifar-10-binary.tar.gz`) in `data/cifar10/` or in
//! the folder named by `$PACBAYES_CIFAR10_DIR`. Without them this binary says so and exits with
//! status 2. On 2 CPU cores an epoch of `cnn9` costs hours (README, "CIFAR-10"): a GPU machine is
//! the place for this table.
//!
//! `cargo run --release -p experiments --bin cifar10_table -- [--preset quick|paper] [--only TEXT]`

use std::path::PathBuf;
use std::process::ExitCode;

use pacbayes_data::{CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, cifar10_dir_from_env};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The folder used when `$PACBAYES_CIFAR10_DIR` is not set, relative to the workspace root.
const DEFAULT_DIR: &str = "data/cifar10";

fn main() -> ExitCode {
    let dir = cifar10_dir_from_env().unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let missing: Vec<&str> = CIFAR10_TRAIN_FILES
        .iter()
        .chain([&CIFAR10_TEST_FILE])
        .copied()
        .filter(|name| !dir.join(name).is_file())
        .collect();
    let dry_run = std::env::args().any(|a| a == "--dry-run");
    if !missing.is_empty() && !dry_run {
        eprintln!(
            "error: CIFAR-10 not found: {} lacks {}; put the six files of the binary version \
             (data_batch_1.bin … data_batch_5.bin, test_batch.bin) in {DEFAULT_DIR}/ or set \
             PACBAYES_CIFAR10_DIR to their folder",
            dir.display(),
            missing.join(", ")
        );
        return ExitCode::from(2);
    }
    let dataset = format!("cifar10:{}", std::path::absolute(&dir).unwrap_or(dir).display());
    let plan = experiments::plans::cifar10_table(&dataset);
    match experiments::main("cifar10_table", &plan) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
