//! Tightness tables: one row per certified run, as papers print them.
//!
//! The data files (`table.csv`, `table.parquet`) hold every column of [`COLUMNS`] exactly as
//! computed (f64; the CSV in the shortest form that reads back to the same f64). Rounding happens
//! only in the views (`table.md`, `table.tex`, the terminal), by the [`Kind`](crate::Kind) of each
//! column: certificates up, so that no shown certificate is below the certified value.

use std::fmt;
use std::path::{Path, PathBuf};

use polars::prelude::{Column as Series, CsvWriter, DataFrame, ParquetWriter, SerWriter};

use crate::columns::{COLUMNS, Getter};
use crate::present;
use crate::style::CheckedStyle;
use crate::{CertificateRecord, Error, Result};

/// A tightness table over several runs.
#[derive(Debug, Clone, PartialEq)]
pub struct TightnessTable {
    records: Vec<CertificateRecord>,
    /// Columns of the data files besides [`COLUMNS`] (a sweep's grid values): name, one text per row.
    extra: Vec<(String, Vec<String>)>,
}

impl TightnessTable {
    /// One row per record, in the order given.
    pub fn new(records: &[CertificateRecord]) -> Self {
        Self { records: records.to_vec(), extra: Vec::new() }
    }

    /// Adds a text column to the data files (CSV, Parquet), after [`COLUMNS`]: a sweep's grid key
    /// and each row's value of it.
    ///
    /// # Errors
    /// A number of values other than the number of rows, or a name that [`COLUMNS`] has already.
    pub fn with_column(mut self, name: &str, values: Vec<String>) -> Result<Self> {
        if values.len() != self.records.len() || COLUMNS.iter().any(|c| c.name == name) {
            return Err(Error::UnknownColumn {
                setting: "extra column",
                name: name.to_owned(),
                known: format!(
                    "a name not among the table's own columns, with {} values (got {})",
                    self.records.len(),
                    values.len()
                ),
            });
        }
        self.extra.push((name.to_owned(), values));
        Ok(self)
    }

    /// The records of the rows.
    pub fn records(&self) -> &[CertificateRecord] {
        &self.records
    }

    /// Checks that every row was made by the same code (the same commit, equally clean or dirty;
    /// see [`pacbayes_provenance::Provenance::code`]).
    ///
    /// # Errors
    /// [`Error::MixedCode`] naming the first row and the first row made by other code.
    pub fn check_single_code(&self) -> Result<()> {
        let Some(first) = self.records.first() else { return Ok(()) };
        let first_code = first.provenance.code();
        match self.records.iter().find(|r| r.provenance.code() != first_code) {
            Some(other) => Err(Error::MixedCode {
                first_run: first.run.clone(),
                first_code,
                run: other.run.clone(),
                code: other.provenance.code(),
            }),
            None => Ok(()),
        }
    }

    /// The table as a polars data frame: every column of [`COLUMNS`], at full precision.
    ///
    /// # Errors
    /// Only on a polars failure.
    pub fn to_data_frame(&self) -> Result<DataFrame> {
        let mut columns: Vec<Series> = COLUMNS
            .iter()
            .map(|c| {
                let name = c.name.into();
                let rs = self.records.iter();
                match c.get {
                    Getter::Text(get) => Series::new(name, rs.map(get).collect::<Vec<_>>()),
                    Getter::Keyed { long, .. } => Series::new(name, rs.map(long).collect::<Vec<_>>()),
                    Getter::Count(get) => Series::new(name, rs.map(get).collect::<Vec<_>>()),
                    Getter::Real(get) => Series::new(name, rs.map(get).collect::<Vec<_>>()),
                }
            })
            .collect();
        for (name, values) in &self.extra {
            columns.push(Series::new(name.as_str().into(), values.clone()));
        }
        Ok(DataFrame::new(self.records.len(), columns)?)
    }

    /// The Markdown (GitHub) table of `style`'s columns, with its key and the rounding note.
    pub fn to_markdown(&self, style: &CheckedStyle) -> String {
        present::markdown(&self.records, style)
    }

    /// A LaTeX `tabular` with booktabs rules and math headers, followed by its key and the rounding
    /// note (`\usepackage{booktabs}`).
    pub fn to_latex(&self, style: &CheckedStyle) -> String {
        present::latex(&self.records, style)
    }

    /// The terminal view of `style` (the [`Display`](fmt::Display) of the table uses the default).
    pub fn to_terminal(&self, style: &CheckedStyle) -> String {
        present::terminal(&self.records, style)
    }

    /// Writes `table.csv`, `table.parquet`, `table.md` and `table.tex` into `dir` (created if
    /// needed) in the default style, and returns their paths.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        self.write_with(dir, &CheckedStyle::default())
    }

    /// As [`TightnessTable::write`], the Markdown and LaTeX tables in `style`.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn write_with(&self, dir: &Path, style: &CheckedStyle) -> Result<Vec<PathBuf>> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut df = self.to_data_frame()?;
        let paths: Vec<PathBuf> =
            ["csv", "parquet", "md", "tex"].iter().map(|e| dir.join(format!("table.{e}"))).collect();
        // Each file through a temporary sibling, synced and renamed into place.
        let file = |p: &Path| pacbayes_nn::atomic::AtomicFile::create(p).map_err(io(p));
        let mut csv = file(&paths[0])?;
        CsvWriter::new(csv.as_file_mut()).include_header(true).finish(&mut df)?;
        csv.commit().map_err(io(&paths[0]))?;
        let mut parquet = file(&paths[1])?;
        ParquetWriter::new(parquet.as_file_mut()).finish(&mut df)?;
        parquet.commit().map_err(io(&paths[1]))?;
        pacbayes_nn::atomic::write(&paths[2], self.to_markdown(style).as_bytes()).map_err(io(&paths[2]))?;
        pacbayes_nn::atomic::write(&paths[3], self.to_latex(style).as_bytes()).map_err(io(&paths[3]))?;
        Ok(paths)
    }
}

/// The table on a terminal, in the default style (about 100 characters wide).
impl fmt::Display for TightnessTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_terminal(&CheckedStyle::default()))
    }
}
