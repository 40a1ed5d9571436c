//! The `pacbayes` command, and the pipeline behind `pacbayes run` as a library for experiment
//! binaries.
//!
//! Exit status of the command: 0 on success, 2 for an error caused by the input (with one line on
//! stderr that names what was wrong), 1 for an internal failure.
//!
//! ```no_run
//! // One run from a TOML configuration (every key optional; see `pacbayes run --help`).
//! let outcome = pacbayes_cli::run_from_toml(
//!     "name = \"quick-fcn\"\n[posterior]\nepochs = 2\n",
//!     std::path::Path::new("runs"),
//! )?;
//! println!("certificate: {}", outcome.certificate.display());
//! # Ok::<(), anyhow::Error>(())
//! ```

mod args;
mod cli;
mod commands;
mod config;
mod device;
mod exit;
#[cfg(test)]
mod keys_and_flags;
mod output;
mod progress;
#[cfg(test)]
mod readme_config;
mod timings;

use std::process::ExitCode;

use clap::Parser;

pub use commands::report::TableOptions;
pub use commands::run::{RunOutcome, made_with, report_runs, run_from_toml, run_reusing_prior};

/// The wall time in seconds of the whole run in `run_dir` (its prior, also when reused from another
/// run, its posterior and its certificate), from its `timings.json`; `None` before it is certified.
pub fn run_seconds(run_dir: &std::path::Path) -> Option<f64> {
    let stage = |name: &str| timings::seconds(run_dir, name);
    Some(stage("certificate")? + stage("prior").unwrap_or(0.0) + stage("posterior").unwrap_or(0.0))
}

/// Parses the command line, runs the command, and maps its outcome to an exit status.
pub fn main() -> ExitCode {
    pacbayes_nn::init_threads();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(&err),
    };
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => exit::failure(&err),
    }
}
