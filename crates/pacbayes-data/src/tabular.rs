//! Tabular datasets from CSV or Parquet (through polars' eager readers): one label column, every other
//! column a numeric feature.
//!
//! Labels may be integers (classes `0..=max`), integral floats, booleans, or strings (classes are the
//! distinct strings in sorted order, kept as class names). A stratified, seeded test set is held out
//! of the file. Features are returned as read; standardize them with
//! [`Split::standardize`](crate::Split::standardize), which fits on the prior side only.

use std::path::Path;

use polars::prelude::{Column, CsvReadOptions, DataFrame, DataType, ParquetReader, PolarsError, SerReader};

use crate::dataset::{Dataset, TrainTest};
use crate::error::{Error, Location, Result};
use crate::split::stratified_holdout;

/// How to read a table.
#[derive(Debug, Clone, PartialEq)]
pub struct TabularOptions {
    /// The name of the label column.
    pub label_column: String,
    /// The fraction of each class held out as the test set, in [0, 1).
    pub test_fraction: f64,
    /// The seed of the test hold-out (kept apart from the split seed, so the test set stays fixed).
    pub test_seed: u64,
}

impl Default for TabularOptions {
    fn default() -> Self {
        TabularOptions { label_column: "label".into(), test_fraction: 0.2, test_seed: 0 }
    }
}

#[derive(Clone, Copy)]
enum Format {
    Csv,
    Parquet,
}

/// Reads a CSV file with a header line.
pub fn load_csv(path: &Path, options: &TabularOptions) -> Result<TrainTest> {
    load(path, options, Format::Csv)
}

/// Reads a Parquet file.
pub fn load_parquet(path: &Path, options: &TabularOptions) -> Result<TrainTest> {
    load(path, options, Format::Parquet)
}

fn load(path: &Path, options: &TabularOptions, format: Format) -> Result<TrainTest> {
    if !(0.0..1.0).contains(&options.test_fraction) {
        let value = options.test_fraction;
        return Err(Error::InvalidFraction { name: "test_fraction", value, expected: "[0, 1)" });
    }
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() == 0 {
        return Err(Error::Empty { path: path.into(), what: "no bytes" });
    }
    let df = read(path, format)?;
    if df.height() == 0 {
        return Err(Error::Empty { path: path.into(), what: "no data rows" });
    }
    let at = |row: usize| match format {
        Format::Csv => Location::Line(row + 2),
        Format::Parquet => Location::Row(row + 1),
    };
    let label_col =
        df.columns().iter().find(|c| c.name().as_str() == options.label_column).ok_or_else(|| {
            let available = df.get_column_names().iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ");
            Error::MissingColumn { path: path.into(), column: options.label_column.clone(), available }
        })?;
    let (labels, class_names) = labels(path, label_col, &at)?;
    let feature_cols: Vec<&Column> =
        df.columns().iter().filter(|c| c.name().as_str() != options.label_column).collect();
    if feature_cols.is_empty() {
        return Err(Error::Table {
            path: path.into(),
            reason: "no feature columns besides the label".into(),
        });
    }
    let d = feature_cols.len();
    let n = df.height();
    let mut features = vec![0.0f32; n * d];
    for (j, col) in feature_cols.iter().enumerate() {
        for (r, x) in numeric(path, col, &at)?.into_iter().enumerate() {
            features[r * d + j] = x as f32;
        }
    }
    let kind = match format {
        Format::Csv => "csv",
        Format::Parquet => "parquet",
    };
    let name = format!(
        "{kind}:{}",
        path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into())
    );
    let n_classes = class_names.len() as u32;
    let all =
        Dataset::new(name.clone(), features, vec![d], labels, n_classes)?.with_class_names(class_names)?;
    let [test, train] = stratified_holdout(all.labels(), n_classes, options.test_fraction, options.test_seed);
    if options.test_fraction > 0.0 && test.is_empty() {
        return Err(Error::EmptyPart { dataset: name, part: "test" });
    }
    Ok(TrainTest { train: all.subset(&train), test: all.subset(&test) })
}

fn read(path: &Path, format: Format) -> Result<DataFrame> {
    let table = |e: PolarsError| Error::Table { path: path.into(), reason: e.to_string() };
    match format {
        Format::Csv => CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(None)
            .try_into_reader_with_file_path(Some(path.into()))
            .map_err(table)?
            .finish()
            .map_err(table),
        Format::Parquet => {
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            ParquetReader::new(file).finish().map_err(table)
        }
    }
}

fn table_err(path: &Path, col: &Column, e: PolarsError) -> Error {
    Error::Table { path: path.into(), reason: format!("column {:?}: {e}", col.name().as_str()) }
}

/// One `f64` per row; a null, empty or NaN value is missing, anything else not a finite number is
/// non-numeric.
fn numeric(path: &Path, col: &Column, at: &dyn Fn(usize) -> Location) -> Result<Vec<f64>> {
    let column = col.name().to_string();
    let missing = |row| Error::MissingValue { path: path.into(), column: column.clone(), at: at(row) };
    let non_numeric = |row, value: String| Error::NonNumeric {
        path: path.into(),
        column: column.clone(),
        at: at(row),
        value,
    };
    let dtype = col.dtype();
    if dtype.is_primitive_numeric() || dtype.is_bool() {
        let cast = col.cast(&DataType::Float64).map_err(|e| table_err(path, col, e))?;
        let ca = cast.f64().map_err(|e| table_err(path, col, e))?;
        ca.iter()
            .enumerate()
            .map(|(r, v)| match v {
                None => Err(missing(r)),
                Some(x) if x.is_nan() => Err(missing(r)),
                Some(x) if x.is_infinite() => Err(non_numeric(r, x.to_string())),
                Some(x) => Ok(x),
            })
            .collect()
    } else if dtype.is_string() {
        let ca = col.str().map_err(|e| table_err(path, col, e))?;
        ca.iter()
            .enumerate()
            .map(|(r, v)| {
                let s = v.map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| missing(r))?;
                match s.parse::<f64>() {
                    Ok(x) if x.is_nan() => Err(missing(r)),
                    Ok(x) if x.is_finite() => Ok(x),
                    _ => Err(non_numeric(r, s.to_owned())),
                }
            })
            .collect()
    } else {
        Err(non_numeric(0, format!("a value of type {dtype}")))
    }
}

/// Class indices and class names from the label column.
fn labels(path: &Path, col: &Column, at: &dyn Fn(usize) -> Location) -> Result<(Vec<u32>, Vec<String>)> {
    let column = col.name().to_string();
    let n = col.len();
    if col.dtype().is_string() {
        let ca = col.str().map_err(|e| table_err(path, col, e))?;
        let mut values = Vec::with_capacity(n);
        for (r, v) in ca.iter().enumerate() {
            let s = v.map(str::trim).filter(|s| !s.is_empty());
            values.push(s.ok_or_else(|| Error::MissingValue {
                path: path.into(),
                column: column.clone(),
                at: at(r),
            })?);
        }
        let mut names: Vec<&str> = values.clone();
        names.sort_unstable();
        names.dedup();
        let labels = values.iter().map(|v| names.binary_search(v).map_or(0, |i| i as u32)).collect();
        return Ok((labels, names.into_iter().map(str::to_owned).collect()));
    }
    // Numeric labels: integral values in 0..n (at most one class per row).
    let values = numeric(path, col, at)?;
    let mut labels = Vec::with_capacity(n);
    for (r, &x) in values.iter().enumerate() {
        if x.fract() != 0.0 || x < 0.0 || x >= n as f64 {
            let label = x.to_string();
            return Err(Error::LabelOutOfRange { path: path.into(), at: at(r), label, n_classes: n as u32 });
        }
        labels.push(x as u32);
    }
    let n_classes = labels.iter().max().map_or(1, |&m| m + 1);
    Ok((labels, (0..n_classes).map(|c| c.to_string()).collect()))
}
