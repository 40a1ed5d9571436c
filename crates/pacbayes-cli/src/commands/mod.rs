//! One module per subcommand.

pub(crate) mod bound;
pub(crate) mod certify;
pub(crate) mod data;
pub(crate) mod posterior;
pub(crate) mod predict;
pub(crate) mod prior;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod sweep;
pub(crate) mod verify;

use crate::cli::Command;

/// Runs a parsed command.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(args) => run::run(args),
        Command::Bound(cmd) => bound::run(cmd),
        Command::Data(cmd) => data::run(cmd),
        Command::Prior(args) => prior::run(args),
        Command::Posterior(args) => posterior::run(args),
        Command::Certify(args) => certify::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Report(args) => report::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Predict(args) => predict::run(args),
    }
}
