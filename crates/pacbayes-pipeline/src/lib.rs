//! The pipeline of `pacbayes run` as a library: data → prior → posterior → certificate → table, with
//! one typed configuration ([`RunConfig`]), one run-folder layout ([`RunDir`]), one observer of
//! progress ([`Observer`]) and one stop flag ([`Control`]).
//!
//! ```no_run
//! use pacbayes_pipeline::{Control, Preset, RunConfig, run_config};
//!
//! // The MNIST FCN of the quick schedule, its posterior trained on the kl bound.
//! let mut config = RunConfig::from_preset(Preset::Quick);
//! config.name = "mnist-fcn-f-kl".into();
//! config.posterior.objective = pacbayes_posterior::ObjectiveKind::FKl;
//! config.posterior.epochs = 2;
//! let outcome = run_config(&config, "runs".as_ref(), &[], &Control::silent())?;
//! println!("{}\ncertificate: {}", outcome.table, outcome.certificate.display());
//! # Ok::<(), pacbayes_pipeline::Error>(())
//! ```
//!
//! Each stage is a function of its own, on a run folder: [`fit_prior`] creates the folder,
//! [`train_posterior`] and [`certify_run`] add to it, [`report`] tabulates certified runs. None of
//! them prints or installs a signal handler: progress goes to the [`Observer`] of the [`Control`],
//! and a caller's Ctrl-C handler sets its stop flag. Every error is an [`Error`], and
//! [`Error::is_input`] tells those caused by the input (a setting, a file, a folder) from internal
//! failures.

mod certify;
mod control;
mod error;
mod posterior;
mod prior;
mod prior_config;
mod report;
mod run;
mod run_config;
mod run_data;
mod run_dir;

pub use certify::{CertificateKind, CertifyOutcome, certify_run, file_hashes};
pub use control::{Control, Observer, Silent, Stage};
pub use error::{Error, Result, chain, is_environment};
pub use posterior::{PosteriorOutcome, check_mode_for, train_posterior};
pub use prior::{PriorOutcome, fit_prior};
pub use prior_config::{PUBLISHED_SCALE_GRID, PriorConfig, PriorKind, Training};
pub use report::{TableOptions, report, report_with_columns};
pub use run::{RunOutcome, made_with, run_config};
pub use run_config::{CertifyConfig, PosteriorConfig, Preset, RunConfig, parse, read_or_default};
pub use run_data::RunData;
pub use run_dir::{
    CERTIFICATE_FILE, CONFIG_FILE, NETWORK_FILE, POSTERIOR_WEIGHTS_FILE, RunDir, TIMINGS_FILE,
    check_parent_writable,
};
