//! `pacbayes data`: datasets and splits over `pacbayes-data`.

use std::fmt::Write as _;

use anyhow::Result;
use clap::{Args, Subcommand};
use pacbayes_data::{DatasetSpec, Split, SplitConfig, TabularOptions};

use pacbayes_pipeline::PriorConfig;

#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// Prints the examples per class of S_prior, the validation slice, S_bound and the test set, and
    /// the split manifest's hashes.
    Info(InfoArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// mnist, binary-mnist, fashion-mnist, cifar10:DIR, idx:DIR, csv:FILE or parquet:FILE.
    #[arg(long, default_value_t = PriorConfig::default().dataset)]
    dataset: String,
    /// The label column of a CSV or Parquet table.
    #[arg(long, default_value_t = PriorConfig::default().label_column)]
    label_column: String,
    /// α ∈ [0, 1): the fraction of each class given to S_prior (0 for a data-free prior).
    #[arg(long, default_value_t = PriorConfig::default().prior_fraction, allow_negative_numbers = true)]
    prior_fraction: f64,
    /// The fraction of S_prior set aside for validation, in [0, 1) [default: that of `pacbayes
    /// prior`, so that the hashes are those of a learnt prior's run; 0 when --prior-fraction is 0].
    /// A data-free or from-file prior sets none aside: give 0 for them.
    #[arg(long, allow_negative_numbers = true)]
    validation_fraction: Option<f64>,
    /// The seed of the split.
    #[arg(long, default_value_t = PriorConfig::default().seed)]
    seed: u64,
    /// Print the split manifest as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Info(a) => {
            // Everything is computed before anything is printed: a failure prints nothing on stdout.
            let text = info(&a)?;
            print!("{text}");
        }
    }
    Ok(())
}

fn info(a: &InfoArgs) -> Result<String> {
    let spec: DatasetSpec = a.dataset.parse()?;
    // Nothing to set aside from an empty S_prior.
    let validation_fraction = a.validation_fraction.unwrap_or(if a.prior_fraction <= 0.0 {
        0.0
    } else {
        PriorConfig::default().validation_fraction
    });
    let config = SplitConfig::new(a.prior_fraction, a.seed)?.with_validation_fraction(validation_fraction)?;
    let tabular = TabularOptions { label_column: a.label_column.clone(), ..TabularOptions::default() };
    let data = spec.load(&tabular)?;
    let names = data.train.class_names().to_vec();
    let test_counts = data.test.class_counts();
    let split = Split::new(data.train, config)?;
    let m = split.manifest();
    if a.json {
        return Ok(format!("{}\n", m.to_json()));
    }

    let mut out = String::new();
    let w = names.iter().map(String::len).max().unwrap_or(1).max(6);
    writeln!(out, "dataset              {}", m.dataset)?;
    writeln!(out, "content_sha256       {}", m.content_sha256)?;
    writeln!(out, "algorithm            {}", m.algorithm)?;
    writeln!(out, "prior_fraction       {}", m.prior_fraction)?;
    writeln!(out, "validation_fraction  {}", m.validation_fraction)?;
    writeln!(out, "seed                 {}", m.seed)?;
    writeln!(out, "n_classes            {}", m.n_classes)?;
    writeln!(out)?;
    write!(out, "{:<10} {:>8}", "part", "n")?;
    for name in &names {
        write!(out, " {name:>w$}")?;
    }
    writeln!(out)?;
    let mut row = |part: &str, n: usize, counts: &[usize]| -> std::fmt::Result {
        write!(out, "{part:<10} {n:>8}")?;
        for c in counts {
            write!(out, " {c:>w$}")?;
        }
        writeln!(out)
    };
    row("prior", m.n_prior, &m.prior_class_counts)?;
    if m.n_validation > 0 {
        row("validation", m.n_validation, &m.validation_class_counts)?;
    }
    row("bound", m.n_bound, &m.bound_class_counts)?;
    row("test", test_counts.iter().sum(), &test_counts)?;
    writeln!(out)?;
    writeln!(out, "prior_indices_sha256       {}", m.prior_indices_sha256)?;
    if m.n_validation > 0 {
        writeln!(out, "validation_indices_sha256  {}", m.validation_indices_sha256)?;
    }
    writeln!(out, "bound_indices_sha256       {}", m.bound_indices_sha256)?;
    Ok(out)
}
