//! Risk certificates for stochastic networks, their audit, and tightness tables.
//!
//! Certify a trained stochastic network Q (a [`pacbayes_nn::Network`], its prior P inside) on
//! S_bound: estimate its empirical Gibbs risk by Monte Carlo ([`estimate`], fast or classic
//! protocol, the Monte Carlo term always paid), bound its risk with the kl bound of
//! [`pacbayes_bounds`] for the 0-1 loss and for the bounded cross-entropy, with n = |S_bound|
//! exactly and every union-bound charge in the ledger, and record everything in a
//! [`CertificateRecord`] (`certificate.json`) that [`CertificateRecord::verify`] rechecks without
//! the network. [`TightnessTable`] gathers records into a table for a paper.
//!
//! ```
//! use candle_core::Device;
//! use pacbayes_bounds::Ledger;
//! use pacbayes_data::{LinearTeacher, Split, SplitConfig};
//! use pacbayes_eval::{CertifySettings, PriorSummary, RunContext, certify};
//! use pacbayes_nn::{Architecture, Network};
//!
//! let teacher = LinearTeacher::new(vec![1.0, -1.0, 0.5], 0.1)?;
//! let data = teacher.train_test(200, 100, 1);
//! let split = Split::new(data.train, SplitConfig::new(0.0, 1)?)?; // α = 0: all of S is S_bound
//! let arch = Architecture::Linear { inputs: 3, classes: 2 };
//! let q = Network::from_seed(arch, 0.1, 7, &Device::Cpu)?; // Q = P here, so KL = 0
//! let settings = CertifySettings { repetitions: Some(50), ensemble_size: 5, ..Default::default() }.check()?;
//! let context = RunContext {
//!     run: "example".into(),
//!     dataset: "synthetic".into(),
//!     objective: "none".into(),
//!     prior: PriorSummary { kind: "data-free".into(), description: "random".into(), charges: vec![], union_cost_nats: 0.0 },
//!     posterior: serde_json::Value::Null,
//!     split: split.manifest(),
//! };
//! let record = certify(&q, split.bound(), &data.test, &settings, &Ledger::new(), context, &())?;
//! assert_eq!(record.protocol.mc_samples, 50 * 200); // k·n independent draws
//! assert!(record.zero_one.bound > record.zero_one.emp_risk_upper);
//! record.verify()?; // recomputed from the recorded numbers alone
//! let mut tampered = record.clone();
//! tampered.n_bound += 1;
//! assert!(tampered.verify().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every random draw comes from a seeded [`pacbayes_nn::Noise`], forked once per unit of work in a
//! fixed order, so a certificate does not depend on the number of threads.

mod columns;
mod disintegrated;
mod error;
mod estimate;
mod gibbs;
mod heldout;
mod loss;
mod present;
mod record;
mod renyi;
mod rounding;
mod selected;
mod selection;
mod settings;
mod style;
mod table;
mod test_error;
mod verify;

pub use columns::{COLUMNS, Column, Decimals, Getter, PAPER_COLUMNS, TERMINAL_COLUMNS, column};
pub use disintegrated::{
    DisintegratedRecord, certify_disintegrated, disintegrated_seed, drawn_errors, load_drawn,
    log_density_ratio, save_drawn,
};
pub use error::{Error, Result};
pub use estimate::{Observer, RiskEstimate, estimate, estimate_classic, estimate_fast};
pub use gibbs::{GibbsSampler, Stem};
pub use heldout::{HeldoutRecord, heldout_charges_nats, prior_mean_errors};
pub use loss::{LossSums, bounded_cross_entropy, loss_sums, predicted};
pub use pacbayes_provenance::Provenance;
pub use present::ROUNDING_NOTE;
pub use record::{
    CertificateRecord, FORMAT, FileHashes, PriorSummary, ProtocolRecord, RunContext, Seeds, WallTimes,
    certify,
};
pub use renyi::{RenyiRecord, renyi_divergence};
pub use rounding::{Kind, show};
pub use selection::{configurations_charge, delta_mc_per_configuration};
pub use settings::{CertifySettings, CheckedSettings, DEFAULT_FAST_DRAWS, Protocol};
pub use style::{CheckedStyle, MAX_DECIMALS, TableStyle};
pub use table::TightnessTable;
pub use test_error::{ENSEMBLE_RULE, TestErrors, test_errors};
