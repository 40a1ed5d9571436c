//! One module per subcommand.

pub(crate) mod bound;
pub(crate) mod data;
pub(crate) mod prior;

use crate::cli::Command;

/// Runs a parsed command.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Bound(cmd) => bound::run(cmd),
        Command::Data(cmd) => data::run(cmd),
        Command::Prior(args) => prior::run(args),
    }
}
