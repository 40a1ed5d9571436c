//! The `pacbayes` command: a command line over the library `pacbayes_pipeline` (parsing, the
//! Ctrl-C handler, progress bars and exit statuses).
//!
//! Exit status of the command: 0 on success, 2 for an error caused by the input (with one line on
//! stderr that names what was wrong), 1 for an internal failure.
//!
//! ```no_run
//! // The whole `pacbayes` binary.
//! fn main() -> std::process::ExitCode {
//!     pacbayes_cli::main()
//! }
//! ```

mod args;
mod cli;
mod commands;
mod device;
mod exit;
#[cfg(test)]
mod keys_and_flags;
mod progress;
#[cfg(test)]
mod readme_config;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the command, and maps its outcome to an exit status.
pub fn main() -> ExitCode {
    pacbayes_nn::init_threads();
    end_quietly_on_a_closed_pipe();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(&err),
    };
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => exit::failure(&err),
    }
}

/// Writing to a pipe whose reader has gone (`pacbayes bound certify … | head -1`) ends the process
/// as it ends `cat` or `grep`, by the default action of SIGPIPE, instead of a panic in `println!`:
/// the Rust runtime ignores SIGPIPE, so every write would return `EPIPE`. pacbayes writes to no
/// other pipe or socket, so no other write is affected. If the handler cannot be installed, the
/// runtime's behaviour stays.
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    {
        let always = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let _ = signal_hook::flag::register_conditional_default(signal_hook::consts::SIGPIPE, always);
    }
}
