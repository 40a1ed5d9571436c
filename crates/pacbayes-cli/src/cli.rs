//! The command line: one subcommand per stage of the pipeline.

use clap::{Parser, Subcommand};

use crate::commands::bound::BoundCommand;
use crate::commands::data::DataCommand;
use crate::commands::prior::PriorArgs;

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
    /// Datasets and splits: counts per class and the split manifest.
    #[command(subcommand)]
    Data(DataCommand),
    /// Fits a prior on S_prior (or builds a data-free or from-file one) and saves it in a new folder.
    Prior(PriorArgs),
}
