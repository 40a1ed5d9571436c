//! `pacbayes`: PAC-Bayes risk certificates from the terminal.
//!
//! Exit status: 0 on success, 2 for an error caused by the input (with one line on stderr that names
//! what was wrong), 1 for an internal failure.

mod args;
mod cli;
mod commands;
mod config;
mod exit;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(&err),
    };
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => exit::failure(&err),
    }
}
