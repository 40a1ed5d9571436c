//! How a tightness table is shown: the columns, the decimals, the best certificate in bold, the
//! width of the terminal view. Checked once ([`TableStyle::check`]) before any table is drawn.

use crate::columns::{COLUMNS, Column, PAPER_COLUMNS, TERMINAL_COLUMNS, column};
use crate::{Error, Result};

/// The most decimals a table shows.
pub const MAX_DECIMALS: usize = 12;

/// The presentation settings of a table, as given (names of columns, unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStyle {
    /// Decimals of every real column but those with a fixed number (KL in nats: 2, seconds: 1).
    pub decimals: usize,
    /// The columns of the Markdown, LaTeX and terminal tables, by name (empty: the paper's
    /// selection in Markdown and LaTeX, a compact one on the terminal).
    pub columns: Vec<String>,
    /// Whether the best (smallest) certificate of each group is shown in bold (Markdown, LaTeX).
    pub bold_best: bool,
    /// The columns whose values define a group for `bold_best`.
    pub group_by: Vec<String>,
    /// Whether the terminal table shows every column, at full width.
    pub wide: bool,
    /// The width the terminal table is fitted to, unless `wide`.
    pub width: usize,
}

impl Default for TableStyle {
    fn default() -> Self {
        Self {
            decimals: 4,
            columns: Vec::new(),
            bold_best: false,
            group_by: vec!["dataset".into(), "architecture".into()],
            wide: false,
            width: 100,
        }
    }
}

/// A [`TableStyle`] whose every name is a column and whose numbers are in range.
#[derive(Debug, Clone)]
pub struct CheckedStyle {
    pub(crate) decimals: usize,
    pub(crate) paper: Vec<&'static Column>,
    pub(crate) terminal: Vec<&'static Column>,
    pub(crate) bold_best: bool,
    pub(crate) group_by: Vec<&'static Column>,
    pub(crate) wide: bool,
    pub(crate) width: usize,
}

impl Default for CheckedStyle {
    fn default() -> Self {
        TableStyle::default().check().expect("the default style is valid")
    }
}

fn columns(setting: &'static str, names: &[impl AsRef<str>]) -> Result<Vec<&'static Column>> {
    names
        .iter()
        .map(|name| {
            column(name.as_ref()).ok_or_else(|| Error::UnknownColumn {
                setting,
                name: name.as_ref().to_owned(),
                known: COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
            })
        })
        .collect()
}

impl TableStyle {
    /// Checks every column name and the decimals.
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] for a name that is not a column; [`Error::InvalidSetting`] for more
    /// than [`MAX_DECIMALS`] decimals or a width under 40.
    pub fn check(&self) -> Result<CheckedStyle> {
        if self.decimals > MAX_DECIMALS {
            return Err(Error::InvalidSetting {
                name: "decimals",
                value: self.decimals.to_string(),
                expected: "a whole number from 0 to 12",
            });
        }
        if self.width < 40 {
            return Err(Error::InvalidSetting {
                name: "width",
                value: self.width.to_string(),
                expected: "at least 40 characters",
            });
        }
        let chosen = columns("columns", &self.columns)?;
        let (paper, terminal) = if chosen.is_empty() {
            (columns("columns", PAPER_COLUMNS)?, columns("columns", TERMINAL_COLUMNS)?)
        } else {
            (chosen.clone(), chosen)
        };
        let terminal = if self.wide { COLUMNS.iter().collect() } else { terminal };
        Ok(CheckedStyle {
            decimals: self.decimals,
            paper,
            terminal,
            bold_best: self.bold_best,
            group_by: columns("group_by", &self.group_by)?,
            wide: self.wide,
            width: self.width,
        })
    }
}
