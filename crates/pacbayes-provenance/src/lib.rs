//! Which code made a record: every file a stage of pacbayes writes (`prior.json`, `posterior.json`,
//! `certificate.json`, the tables of the experiments) carries a [`Provenance`], so that two numbers
//! can be traced to the code that produced them and rows made by different code are not mixed.
//!
//! The commit and the dirty flag are read from git when this crate is built (`unknown` outside a git
//! checkout); the CPU when the record is made.
//!
//! ```
//! use pacbayes_provenance::Provenance;
//!
//! let here = Provenance::current();
//! assert_eq!(here.pacbayes, env!("CARGO_PKG_VERSION"));
//! assert!(here.rustc.starts_with("rustc ") || here.rustc == "unknown");
//! // The label of the code in a table's `commit` column.
//! assert!(here.code().starts_with(&here.commit));
//! assert_eq!(Provenance::unknown().code(), "unknown");
//! ```

use serde::{Deserialize, Serialize};

/// The commit of the code, as the build saw it (40 hex digits, or `unknown`).
pub const COMMIT: &str = env!("PACBAYES_GIT_COMMIT");

/// Whether the tree had changes not committed when it was built (`None`: not known).
pub const DIRTY: Option<bool> = match env!("PACBAYES_GIT_DIRTY").as_bytes() {
    b"true" => Some(true),
    b"false" => Some(false),
    _ => None,
};

/// The text of an unknown field.
pub const UNKNOWN: &str = "unknown";

/// The code and machine a record was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The git commit of the code (40 hex digits), or `unknown`.
    pub commit: String,
    /// Whether the working tree had changes not committed; `None` when not known.
    pub dirty: Option<bool>,
    /// The pacbayes version.
    pub pacbayes: String,
    /// `rustc --version` of the compiler that built it.
    pub rustc: String,
    /// The CPU's model name (or its architecture, where the model cannot be read).
    pub cpu: String,
}

impl Provenance {
    /// The code running now, on this machine.
    pub fn current() -> Self {
        Self {
            commit: COMMIT.to_owned(),
            dirty: DIRTY,
            pacbayes: env!("CARGO_PKG_VERSION").to_owned(),
            rustc: env!("PACBAYES_RUSTC_VERSION").to_owned(),
            cpu: cpu(),
        }
    }

    /// Nothing known: what records written before provenance was recorded are read as.
    pub fn unknown() -> Self {
        Self {
            commit: UNKNOWN.to_owned(),
            dirty: None,
            pacbayes: UNKNOWN.to_owned(),
            rustc: UNKNOWN.to_owned(),
            cpu: UNKNOWN.to_owned(),
        }
    }

    /// The code, in one word: the commit, with `-dirty` appended when the tree had changes not
    /// committed (`unknown` when the commit is not known). Two records with the same code label were
    /// made by the same committed code.
    pub fn code(&self) -> String {
        match self.dirty {
            Some(true) if self.commit != UNKNOWN => format!("{}-dirty", self.commit),
            _ => self.commit.clone(),
        }
    }

    /// One line for a terminal: `commit 0123abc… (dirty), pacbayes 0.1.0, rustc 1.x, CPU`.
    pub fn summary(&self) -> String {
        let dirty = match self.dirty {
            Some(true) => " (with changes not committed)",
            Some(false) => "",
            None => " (tree state unknown)",
        };
        format!("commit {}{dirty}, pacbayes {}, {}, {}", self.commit, self.pacbayes, self.rustc, self.cpu)
    }
}

/// The CPU's model name from `/proc/cpuinfo`, else the architecture.
fn cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_recorded_a_commit_or_said_it_could_not() {
        let here = Provenance::current();
        let hex = here.commit.len() == 40 && here.commit.chars().all(|c| c.is_ascii_hexdigit());
        assert!(hex || here.commit == UNKNOWN, "{}", here.commit);
        assert_eq!(here.dirty.is_none(), here.commit == UNKNOWN);
        assert!(!here.cpu.is_empty());
        let back: Provenance = serde_json::from_str(&serde_json::to_string(&here).unwrap()).unwrap();
        assert_eq!(back, here);
    }

    #[test]
    fn the_code_label_marks_a_dirty_tree() {
        let mut p = Provenance::unknown();
        p.commit = "a".repeat(40);
        p.dirty = Some(false);
        assert_eq!(p.code(), "a".repeat(40));
        p.dirty = Some(true);
        assert_eq!(p.code(), format!("{}-dirty", "a".repeat(40)));
        assert!(p.summary().contains("not committed"));
    }
}
