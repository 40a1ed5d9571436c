//! Tightness tables: one row per certified run, as papers print them.
//!
//! Risks, KL/n and α are rounded to 4 decimals and seconds to 1 before any output is written, so the
//! CSV, Parquet, Markdown and LaTeX files and the terminal all show the same numbers.

use std::fmt;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, CsvWriter, DataFrame, ParquetWriter, SerWriter};

use crate::{CertificateRecord, Error, Result};

/// The column names, in order.
pub const COLUMNS: [&str; 17] = [
    "run",
    "dataset",
    "architecture",
    "prior",
    "objective",
    "prior_fraction",
    "n_bound",
    "kl_over_n",
    "stochastic_test_error",
    "mean_test_error",
    "emp_risk",
    "bound",
    "gap",
    "wall_seconds",
    "heldout_bound",
    "advantage",
    "disintegrated_bound",
];

/// Decimals printed for each numeric column after the five text columns.
const DECIMALS: [usize; 12] = [4, 0, 4, 4, 4, 4, 4, 4, 1, 4, 4, 4];

fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// One row of the table (the 0-1 loss certificate; numbers already rounded).
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// Text columns: run, dataset, architecture, prior, objective.
    pub text: [String; 5],
    /// α, the prior fraction.
    pub prior_fraction: f64,
    /// n = |S_bound|.
    pub n_bound: u64,
    /// Numeric columns: KL/n, stochastic test error, mean test error, ê, bound, gap, seconds, and
    /// the held-out baseline's bound and its excess over the bound (`advantage`, positive when
    /// PAC-Bayes is tighter; both NaN for a record without a held-out baseline), and the
    /// disintegrated bound of the drawn network (NaN without one).
    pub numbers: [f64; 10],
}

impl TableRow {
    /// The row of a certificate record.
    pub fn from_record(r: &CertificateRecord) -> Self {
        Self {
            text: [
                r.run.clone(),
                r.dataset.clone(),
                r.architecture.clone(),
                r.prior.description.clone(),
                r.objective.clone(),
            ],
            prior_fraction: round(r.split.prior_fraction, 4),
            n_bound: r.n_bound,
            numbers: [
                round(r.kl_over_n, 4),
                round(r.test.stochastic, 4),
                round(r.test.mean, 4),
                round(r.zero_one.emp_risk, 4),
                round(r.zero_one.bound, 4),
                round(r.gap, 4),
                round(r.wall_seconds.run(), 1),
                r.heldout.as_ref().map_or(f64::NAN, |h| round(h.bound, 4)),
                r.heldout.as_ref().map_or(f64::NAN, |h| round(h.bound - r.zero_one.bound, 4)),
                r.disintegrated.as_ref().map_or(f64::NAN, |d| round(d.certificate.bound, 4)),
            ],
        }
    }

    /// Every cell as printed.
    fn cells(&self) -> Vec<String> {
        let mut cells = self.text.to_vec();
        cells.push(format!("{:.4}", self.prior_fraction));
        cells.push(self.n_bound.to_string());
        for (x, d) in self.numbers.iter().zip(&DECIMALS[2..]) {
            cells.push(format!("{x:.d$}", d = *d));
        }
        cells
    }
}

/// A tightness table over several runs.
#[derive(Debug, Clone, PartialEq)]
pub struct TightnessTable {
    rows: Vec<TableRow>,
}

impl TightnessTable {
    /// One row per record, in the order given.
    pub fn new(records: &[CertificateRecord]) -> Self {
        Self { rows: records.iter().map(TableRow::from_record).collect() }
    }

    /// The rows.
    pub fn rows(&self) -> &[TableRow] {
        &self.rows
    }

    /// The table as a polars data frame (columns [`COLUMNS`]).
    ///
    /// # Errors
    /// Only on a polars failure.
    pub fn to_data_frame(&self) -> Result<DataFrame> {
        let mut columns: Vec<Column> = (0..5)
            .map(|i| {
                let values: Vec<&str> = self.rows.iter().map(|r| r.text[i].as_str()).collect();
                Column::new(COLUMNS[i].into(), values)
            })
            .collect();
        columns.push(Column::new(
            COLUMNS[5].into(),
            self.rows.iter().map(|r| r.prior_fraction).collect::<Vec<_>>(),
        ));
        columns.push(Column::new(COLUMNS[6].into(), self.rows.iter().map(|r| r.n_bound).collect::<Vec<_>>()));
        for i in 0..10 {
            let values: Vec<f64> = self.rows.iter().map(|r| r.numbers[i]).collect();
            columns.push(Column::new(COLUMNS[7 + i].into(), values));
        }
        Ok(DataFrame::new(self.rows.len(), columns)?)
    }

    /// A Markdown (GitHub) table, numbers right-aligned.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("| {} |\n|", COLUMNS.join(" | "));
        for i in 0..COLUMNS.len() {
            out.push_str(if i < 5 { "---|" } else { "---:|" });
        }
        out.push('\n');
        for row in &self.rows {
            let cells: Vec<String> = row.cells().iter().map(|c| c.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    /// A LaTeX `tabular` with booktabs rules (`\usepackage{booktabs}`).
    pub fn to_latex(&self) -> String {
        let spec = format!("{}{}", "l".repeat(5), "r".repeat(COLUMNS.len() - 5));
        let header: Vec<String> = COLUMNS.iter().map(|c| latex_escape(c)).collect();
        let mut out =
            format!("\\begin{{tabular}}{{{spec}}}\n\\toprule\n{} \\\\\n\\midrule\n", header.join(" & "));
        for row in &self.rows {
            let cells: Vec<String> = row.cells().iter().map(|c| latex_escape(c)).collect();
            out.push_str(&format!("{} \\\\\n", cells.join(" & ")));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        out
    }

    /// Writes `table.csv`, `table.parquet`, `table.md` and `table.tex` into `dir` (created if
    /// needed) and returns their paths.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut df = self.to_data_frame()?;
        let paths: Vec<PathBuf> =
            ["csv", "parquet", "md", "tex"].iter().map(|e| dir.join(format!("table.{e}"))).collect();
        let file = |p: &Path| std::fs::File::create(p).map_err(io(p));
        CsvWriter::new(file(&paths[0])?).include_header(true).finish(&mut df)?;
        ParquetWriter::new(file(&paths[1])?).finish(&mut df)?;
        std::fs::write(&paths[2], self.to_markdown()).map_err(io(&paths[2]))?;
        std::fs::write(&paths[3], self.to_latex()).map_err(io(&paths[3]))?;
        Ok(paths)
    }
}

/// The table on a terminal: every column, aligned, numbers right-aligned.
impl fmt::Display for TightnessTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self.rows.iter().map(TableRow::cells).collect();
        let widths: Vec<usize> = (0..COLUMNS.len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([COLUMNS[i].len()]).max().unwrap_or(0))
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| if i < 5 { format!("{c:<w$}") } else { format!("{c:>w$}") })
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        let header: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        writeln!(f, "{}", line(&header))?;
        writeln!(f, "{}", "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)))?;
        for row in &rows {
            writeln!(f, "{}", line(row))?;
        }
        Ok(())
    }
}

fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            _ => out.push(c),
        }
    }
    out
}
