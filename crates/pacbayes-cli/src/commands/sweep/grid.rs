//! A sweep's grid file: a base run configuration and lists of values whose Cartesian product is the
//! sweep, expanded into fully resolved run configurations, every one checked before anything runs.
//!
//! ```toml
//! name = "sigma-alpha"
//! [base]                      # any run configuration
//! preset = "quick"
//! [grid]                      # the Cartesian product of these lists
//! "prior.sigma0" = [0.005, 0.01, 0.03]
//! "prior.prior_fraction" = [0.3, 0.5, 0.7]
//! seed = [0, 1]
//! ```
//!
//! A grid key is a dotted path into the run configuration (`prior.training.epochs`), or `seed`,
//! which sets the seed of every stage as `pacbayes run --seed` does. The runs are numbered in the
//! order of the product, the last key varying fastest, with the keys in the order of their names.

use std::path::Path;

use anyhow::Result;
use serde::Deserialize;
use toml::Spanned;

use crate::exit::UsageError;
use pacbayes_pipeline::RunConfig;

/// The most runs a grid may expand to without `--max-runs`.
pub(crate) const DEFAULT_MAX_RUNS: usize = 1000;

/// A grid file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GridText {
    name: Spanned<String>,
    #[serde(default)]
    base: toml::Table,
    grid: Spanned<toml::Table>,
}

/// One grid axis: a setting and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    /// The dotted key.
    pub(crate) key: String,
    /// Its values, in the order of the file.
    pub(crate) values: Vec<toml::Value>,
}

/// One point of the grid: its number, its values (one per axis) and its resolved configuration.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    /// Its number, from 0, in the order of the product.
    pub(crate) index: usize,
    /// The value of each axis.
    pub(crate) values: Vec<toml::Value>,
    /// The resolved configuration (every default written out), with the run's name.
    pub(crate) config: RunConfig,
}

/// A grid file, expanded and checked.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    /// The sweep's name (its folder under the sweeps folder).
    pub(crate) name: String,
    /// The base configuration, as written.
    pub(crate) base: toml::Table,
    /// The axes, in the order of their keys.
    pub(crate) axes: Vec<Axis>,
    /// Every point.
    pub(crate) points: Vec<Point>,
}

impl Grid {
    /// Reads, expands and checks the grid file `path`; at most `max_runs` points.
    ///
    /// # Errors
    /// A file that cannot be read or parsed, a grid key that is not a setting (named with its line),
    /// an empty list, a point whose configuration does not check, or more than `max_runs` points.
    pub(crate) fn read(path: &Path, max_runs: usize) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        Self::parse(&text, max_runs)
            .map_err(|message| UsageError(format!("{}: {message}", path.display())).into())
    }

    /// As [`Grid::read`], from the file's text; errors are one line (without the file name).
    pub(crate) fn parse(text: &str, max_runs: usize) -> std::result::Result<Self, String> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let file: GridText =
            pacbayes_pipeline::parse(text).map_err(|(line, m)| format!("line {line}: {m}"))?;
        let name = file.name.get_ref().clone();
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(format!(
                "line {}: name {name:?} is invalid: expected a plain folder name",
                line_of(file.name.span().start)
            ));
        }
        if file.base.contains_key("name") {
            return Err("[base] has a name: each run of a sweep is named by its number".into());
        }
        let grid_line = line_of(file.grid.span().start);
        let mut axes = Vec::new();
        for (key, value) in file.grid.into_inner() {
            let line = key_line(text, &key).unwrap_or(grid_line);
            let toml::Value::Array(values) = value else {
                return Err(format!("line {line}: grid key {key:?} needs a list of values"));
            };
            if values.is_empty() {
                return Err(format!("line {line}: grid key {key:?} has an empty list"));
            }
            if key == "name" {
                return Err(format!("line {line}: \"name\" cannot be a grid key: runs are named by number"));
            }
            // The key must exist: its first value laid on the base must resolve.
            let mut probe = file.base.clone();
            set(&mut probe, &key, values[0].clone()).map_err(|m| format!("line {line}: {m}"))?;
            resolve(&probe).map_err(|m| format!("line {line}: grid key {key:?} is not a setting: {m}"))?;
            axes.push(Axis { key, values });
        }
        if axes.is_empty() {
            return Err(format!("line {grid_line}: [grid] is empty: expected at least one list of values"));
        }
        let count = axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len())).unwrap_or(usize::MAX);
        if count > max_runs {
            return Err(format!(
                "the grid expands to {count} runs, more than the limit of {max_runs}: pass --max-runs {count} \
                 to run them all"
            ));
        }
        let width = (count.saturating_sub(1)).to_string().len().max(3);
        let mut points = Vec::with_capacity(count);
        for index in 0..count {
            let values = coordinates(index, &axes);
            let mut table = file.base.clone();
            for (axis, value) in axes.iter().zip(&values) {
                set(&mut table, &axis.key, value.clone()).map_err(|m| format!("run {index}: {m}"))?;
            }
            table.insert("name".into(), toml::Value::String(format!("run-{index:0width$}")));
            let shown: Vec<String> =
                axes.iter().zip(&values).map(|(a, v)| format!("{} = {v}", a.key)).collect();
            let config = resolve(&table).map_err(|m| format!("run {index} ({}): {m}", shown.join(", ")))?;
            points.push(Point { index, values, config });
        }
        Ok(Grid { name, base: file.base, axes, points })
    }
}

/// The values of point `index`: the last axis varies fastest.
fn coordinates(mut index: usize, axes: &[Axis]) -> Vec<toml::Value> {
    let mut values = vec![toml::Value::Boolean(false); axes.len()];
    for (slot, axis) in values.iter_mut().zip(axes).rev() {
        *slot = axis.values[index % axis.values.len()].clone();
        index /= axis.values.len();
    }
    values
}

/// The configuration `table` resolved over its preset and checked.
fn resolve(table: &toml::Table) -> std::result::Result<RunConfig, String> {
    let text = toml::to_string(table).map_err(|e| e.to_string())?;
    let config = RunConfig::resolve(&text, None).map_err(|(_, message)| message)?;
    config.check().map_err(|e| pacbayes_pipeline::chain(&e))?;
    Ok(config)
}

/// Sets the dotted `key` of `table` to `value`; `seed` sets the seed of every stage.
fn set(table: &mut toml::Table, key: &str, value: toml::Value) -> std::result::Result<(), String> {
    if key == "seed" {
        for stage in ["prior", "posterior", "certificate"] {
            set(table, &format!("{stage}.seed"), value.clone())?;
        }
        return Ok(());
    }
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().filter(|p| !p.is_empty()).ok_or_else(|| format!("grid key {key:?} is empty"))?;
    let mut here = table;
    for part in parts {
        let entry = here.entry(part.to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        here = entry
            .as_table_mut()
            .ok_or_else(|| format!("grid key {key:?}: {part:?} is a setting, not a table"))?;
    }
    here.insert(last.to_owned(), value);
    Ok(())
}

/// The line of the grid file that defines `key` (quoted or bare), if one does.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let quoted = format!("\"{key}\"");
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let rest = line.strip_prefix(&quoted).or_else(|| line.strip_prefix(key));
            rest.is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRID: &str = "name = \"s\"\n[base]\npreset = \"quick\"\n[grid]\n\"prior.sigma0\" = [0.005, 0.01, 0.03]\n\
                        \"prior.prior_fraction\" = [0.3, 0.7]\nseed = [0, 1]\n";

    #[test]
    fn the_grid_expands_to_its_product_in_order() {
        let grid = Grid::parse(GRID, DEFAULT_MAX_RUNS).unwrap();
        assert_eq!(grid.points.len(), 12);
        let keys: Vec<&str> = grid.axes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["prior.prior_fraction", "prior.sigma0", "seed"]);
        let last = &grid.points[11].config;
        assert_eq!(last.name, "run-011");
        assert!((last.prior.sigma0 - 0.03).abs() < 1e-15);
        assert!((last.prior.prior_fraction - 0.7).abs() < 1e-15);
        assert_eq!((last.prior.seed, last.posterior.seed, last.certificate.seed), (1, 1, 1));
        let first = &grid.points[0].config;
        assert_eq!((first.prior.seed, first.posterior.epochs), (0, 3), "the quick preset is applied");
        let names: std::collections::BTreeSet<&str> =
            grid.points.iter().map(|p| p.config.name.as_str()).collect();
        assert_eq!(names.len(), 12);
    }

    #[test]
    fn bad_grids_name_the_cause_and_line() {
        let cases = [
            (GRID.replace("\"prior.sigma0\"", "\"prior.sigma\""), "line 5", "prior.sigma"),
            (GRID.replace("[0.3, 0.7]", "[]"), "line 6", "empty list"),
            (GRID.replace("[0.3, 0.7]", "[0.3, 1.7]"), "prior_fraction = 1.7", "run 6"),
            (GRID.replace("seed = [0, 1]", "seed = 3"), "line 7", "list of values"),
            ("name = \"s\"\n[grid]\n".to_owned(), "line 2", "empty"),
            ("name = \"s\"\ngrid = 3\n".to_owned(), "line 2", "expected a map"),
            (GRID.replace("name = \"s\"", "name = \"../s\""), "line 1", "plain folder name"),
        ];
        for (text, first, second) in cases {
            let message = Grid::parse(&text, DEFAULT_MAX_RUNS).unwrap_err();
            assert!(message.contains(first) && message.contains(second), "{text}\n→ {message}");
        }
        let message = Grid::parse(GRID, 11).unwrap_err();
        assert!(message.contains("12 runs") && message.contains("--max-runs"), "{message}");
    }
}
