//! One module per subcommand.

pub(crate) mod bound;

use crate::cli::Command;

/// Runs a parsed command.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Bound(cmd) => bound::run(cmd),
    }
}
