//! The command line: one subcommand per stage of the pipeline.

use clap::{Parser, Subcommand};

use crate::commands::bound::BoundCommand;

/// Honest, tight, checkable PAC-Bayes risk certificates.
#[derive(Debug, Parser)]
#[command(name = "pacbayes", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The bound calculator: kl inverses and certificates from numbers.
    #[command(subcommand)]
    Bound(BoundCommand),
}
