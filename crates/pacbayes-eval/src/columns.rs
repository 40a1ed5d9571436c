//! The columns of a tightness table: each is one line naming it, its headers, how its figures may be
//! rounded ([`Kind`]) and where its value is in a [`CertificateRecord`].
//!
//! The data files (`table.csv`, `table.parquet`) hold every column of [`COLUMNS`] at full precision;
//! the Markdown, LaTeX and terminal tables show a selection, rounded by kind.

use crate::{CertificateRecord, Kind};

/// Where a column's value comes from.
#[derive(Clone, Copy)]
pub enum Getter {
    /// Text.
    Text(fn(&CertificateRecord) -> String),
    /// Long text (a description): a presentation table shows the short form with a key mark and
    /// lists the long form once below the table; the data files hold the long form.
    Keyed {
        /// The short form shown in the table (a prior's kind).
        short: fn(&CertificateRecord) -> String,
        /// The long form (a prior's description).
        long: fn(&CertificateRecord) -> String,
    },
    /// A whole number.
    Count(fn(&CertificateRecord) -> u64),
    /// A real number (`None`: not recorded for this run).
    Real(fn(&CertificateRecord) -> Option<f64>),
}

/// Decimals a presentation shows for a real column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decimals {
    /// The table's setting (`--decimals`).
    Setting,
    /// This many, whatever the setting (seconds, KL in nats).
    Fixed(usize),
}

/// One column of a tightness table.
#[derive(Clone, Copy)]
pub struct Column {
    /// The name in the data files and in `--columns`.
    pub name: &'static str,
    /// The header of the Markdown and terminal tables.
    pub header: &'static str,
    /// The header of the LaTeX table (math where it helps).
    pub latex: &'static str,
    /// How its figures are rounded for display.
    pub kind: Kind,
    /// How many decimals are shown.
    pub decimals: Decimals,
    /// Its value.
    pub get: Getter,
}

impl std::fmt::Debug for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Column").field("name", &self.name).field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl Column {
    const fn new(
        name: &'static str,
        header: &'static str,
        latex: &'static str,
        kind: Kind,
        get: Getter,
    ) -> Self {
        Self { name, header, latex, kind, decimals: Decimals::Setting, get }
    }

    /// A text column.
    pub const fn text(
        name: &'static str,
        header: &'static str,
        get: fn(&CertificateRecord) -> String,
    ) -> Self {
        Self::new(name, header, header, Kind::Setting, Getter::Text(get))
    }

    /// A long text column, shown as a short form with a key (see [`Getter::Keyed`]).
    pub const fn keyed(
        name: &'static str,
        short: fn(&CertificateRecord) -> String,
        long: fn(&CertificateRecord) -> String,
    ) -> Self {
        Self::new(name, name, name, Kind::Setting, Getter::Keyed { short, long })
    }

    /// A whole-number column.
    pub const fn count(
        name: &'static str,
        header: &'static str,
        latex: &'static str,
        get: fn(&CertificateRecord) -> u64,
    ) -> Self {
        Self::new(name, header, latex, Kind::Setting, Getter::Count(get))
    }

    /// A real column of the given kind.
    pub const fn real(
        name: &'static str,
        header: &'static str,
        latex: &'static str,
        kind: Kind,
        get: fn(&CertificateRecord) -> Option<f64>,
    ) -> Self {
        Self::new(name, header, latex, kind, Getter::Real(get))
    }

    /// The same column shown with `decimals` decimals whatever the setting.
    pub const fn fixed(self, decimals: usize) -> Self {
        Self { decimals: Decimals::Fixed(decimals), ..self }
    }

    /// Whether the column holds text (left-aligned).
    pub fn is_text(&self) -> bool {
        matches!(self.get, Getter::Text(_) | Getter::Keyed { .. })
    }
}

/// Every column, in the order of the data files. The first fourteen are those of the tables written
/// before full precision (same names, same order, `kl` added beside `kl_over_n`).
pub static COLUMNS: &[Column] = &[
    Column::text("run", "run", |r| r.run.clone()),
    Column::text("dataset", "dataset", |r| r.dataset.clone()),
    Column::text("architecture", "architecture", |r| r.architecture.clone()),
    Column::keyed("prior", |r| r.prior.kind.clone(), |r| r.prior.description.clone()),
    Column::text("objective", "objective", |r| r.objective.clone()),
    Column::real("prior_fraction", "α", r"$\alpha$", Kind::Setting, |r| Some(r.split.prior_fraction)),
    Column::count("n_bound", "n", "$n$", |r| r.n_bound),
    Column::real("kl", "KL", r"$\mathrm{KL}$", Kind::Estimate, |r| Some(r.kl)).fixed(2),
    Column::real("kl_over_n", "KL/n", r"$\mathrm{KL}/n$", Kind::Estimate, |r| Some(r.kl_over_n)),
    Column::real("stochastic_test_error", "test error", "test error", Kind::Estimate, |r| {
        Some(r.test.stochastic)
    }),
    Column::real("mean_test_error", "mean test error", "mean test error", Kind::Estimate, |r| {
        Some(r.test.mean)
    }),
    Column::real("emp_risk", "ê", r"$\hat{e}$", Kind::Estimate, |r| Some(r.zero_one.emp_risk)),
    Column::real("bound", "certificate", "certificate", Kind::UpperBound, |r| Some(r.zero_one.bound)),
    Column::real("gap", "gap", "gap", Kind::Estimate, |r| Some(r.gap)),
    Column::text("prior_kind", "prior kind", |r| r.prior.kind.clone()),
    Column::real("emp_risk_upper", "ê upper", r"$\bar{e}$", Kind::UpperBound, |r| {
        Some(r.zero_one.emp_risk_upper)
    }),
    Column::real("cross_entropy_bound", "CE certificate", "CE certificate", Kind::UpperBound, |r| {
        Some(r.cross_entropy.bound)
    }),
    Column::real("ensemble_test_error", "ensemble test error", "ensemble test error", Kind::Estimate, |r| {
        Some(r.test.ensemble)
    }),
    Column::count("n_test", "n test", r"$n_{\mathrm{test}}$", |r| r.test.n_test as u64),
    Column::real("delta", "δ", r"$\delta$", Kind::Setting, |r| Some(r.zero_one.delta)),
    Column::real("delta_mc", "δ′", r"$\delta'$", Kind::Setting, |r| r.zero_one.delta_mc),
    Column::count("mc_samples", "MC draws", "MC draws", |r| r.protocol.mc_samples),
    Column::real("union_cost_nats", "union cost", "union cost", Kind::Estimate, |r| {
        Some(r.zero_one.union_cost_nats)
    }),
    Column::real("p_min", "p_min", r"$p_{\min}$", Kind::Setting, |r| Some(r.p_min)),
    Column::real("heldout_bound", "held-out", "held-out", Kind::UpperBound, |r| {
        r.heldout.as_ref().map(|h| h.bound)
    }),
    Column::real("advantage", "advantage", "advantage", Kind::Estimate, |r| {
        r.heldout.as_ref().map(|h| h.bound - r.zero_one.bound)
    }),
    Column::real("disintegrated_bound", "disintegrated", "disintegrated", Kind::UpperBound, |r| {
        r.disintegrated.as_ref().map(|d| d.certificate.bound)
    }),
    Column::real("disintegrated_emp_risk", "drawn ê", r"$\hat R_S(h)$", Kind::Estimate, |r| {
        r.disintegrated.as_ref().map(|d| d.certificate.emp_risk)
    }),
    Column::real("log_density_ratio", "ln dQ/dP(h)", r"$\ln\frac{dQ}{dP}(h)$", Kind::Estimate, |r| {
        r.disintegrated.as_ref().map(|d| d.log_density_ratio)
    }),
    Column::real("renyi_divergence", "D_α", r"$D_\alpha$", Kind::Estimate, |r| {
        r.disintegrated.as_ref().and_then(|d| d.renyi.as_ref()).map(|x| x.divergence)
    }),
    Column::real("disintegrated_renyi_bound", "Rényi", "Rényi", Kind::UpperBound, |r| {
        r.disintegrated.as_ref().and_then(|d| d.renyi.as_ref()).map(|x| x.bound)
    }),
    Column::text("commit", "commit", |r| r.provenance.code()),
];

/// The columns of the Markdown and LaTeX tables unless `--columns` says otherwise.
pub const PAPER_COLUMNS: &[&str] = &[
    "architecture",
    "prior",
    "objective",
    "prior_fraction",
    "n_bound",
    "kl_over_n",
    "emp_risk",
    "stochastic_test_error",
    "bound",
    "heldout_bound",
    "disintegrated_bound",
];

/// The columns of the terminal table unless `--columns` or `--wide` says otherwise (about 100
/// characters wide).
pub const TERMINAL_COLUMNS: &[&str] = &[
    "run",
    "n_bound",
    "kl",
    "emp_risk",
    "stochastic_test_error",
    "bound",
    "heldout_bound",
    "disintegrated_bound",
];

/// The column named `name`.
pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}
