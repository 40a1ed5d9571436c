//! Every committed table in `experiments/results/` shows no certificate below the certified value:
//! each bound shown in `table.md` and `table.tex` is compared with the full-precision value of its
//! row in `table.csv` (and that one with the run's `certificate.json` when the run folder is here,
//! in `experiments/runs/`). Upper bounds must be shown at or above, lower bounds at or below.
//!
//! Tables written before the data files held full precision (no `commit` column) cannot be checked:
//! they are listed and skipped, or fail the test when `PACBAYES_RESULTS_STRICT=1`.

use std::path::{Path, PathBuf};

use pacbayes_eval::{COLUMNS, CertificateRecord, Kind};

/// The cells of a CSV line (quoted cells may hold commas and doubled quotes).
fn split_csv(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

/// The rows of a Markdown or LaTeX table as (headers, rows of cells), markup removed.
fn shown_table(text: &str, latex: bool) -> (Vec<String>, Vec<Vec<String>>) {
    let clean = |c: &str| {
        let c = c.trim().trim_end_matches("\\\\").trim();
        let c = c.strip_prefix("\\textbf{").and_then(|c| c.strip_suffix('}')).unwrap_or(c);
        c.trim_matches('*').trim().to_owned()
    };
    let lines: Vec<&str> = if latex {
        let start = text.lines().position(|l| l.starts_with("\\toprule")).expect("a booktabs table");
        text.lines()
            .skip(start + 1)
            .take_while(|l| !l.starts_with("\\bottomrule"))
            .filter(|l| !l.starts_with("\\midrule"))
            .collect()
    } else {
        text.lines().filter(|l| l.starts_with('|') && !l.starts_with("|---")).collect()
    };
    let cells = |l: &str| -> Vec<String> {
        if latex {
            l.split(" & ").map(clean).collect()
        } else {
            let inner = l.trim().trim_start_matches('|').trim_end_matches('|');
            inner.split(" | ").map(clean).collect()
        }
    };
    let headers = cells(lines[0]);
    (headers, lines[1..].iter().map(|l| cells(l)).collect())
}

fn results_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("results")
}

/// Checks one results folder; returns `false` when its table cannot be checked (old format).
fn check_folder(dir: &Path) -> bool {
    let csv = std::fs::read_to_string(dir.join("table.csv")).unwrap();
    let mut lines = csv.lines();
    let header = split_csv(lines.next().expect("a header"));
    if !header.iter().any(|h| h == "commit") {
        return false;
    }
    let rows: Vec<Vec<String>> = lines.map(split_csv).collect();
    let at = |name: &str| header.iter().position(|h| h == name);
    let runs_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("runs");
    for row in &rows {
        let run = &row[at("run").unwrap()];
        let bound: f64 = row[at("bound").unwrap()].parse().unwrap();
        let certificate = runs_dir.join(run).join("certificate.json");
        if certificate.is_file() {
            let record = CertificateRecord::read(&certificate).unwrap();
            assert_eq!(bound.to_bits(), record.zero_one.bound.to_bits(), "{}: {run}", dir.display());
        }
    }
    for (file, latex) in [("table.md", false), ("table.tex", true)] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let (headers, shown) = shown_table(&text, latex);
        assert_eq!(shown.len(), rows.len(), "{}/{file}: a row per run", dir.display());
        for column in COLUMNS.iter().filter(|c| matches!(c.kind, Kind::UpperBound | Kind::LowerBound)) {
            let wanted = if latex { column.latex } else { column.header };
            let (Some(i), Some(j)) = (headers.iter().position(|h| h == wanted), at(column.name)) else {
                continue;
            };
            for (shown_row, row) in shown.iter().zip(&rows) {
                let (Ok(value), Ok(full)) = (shown_row[i].parse::<f64>(), row[j].parse::<f64>()) else {
                    continue;
                };
                let honest = if column.kind == Kind::UpperBound { value >= full } else { value <= full };
                assert!(
                    honest,
                    "{}/{file}: {} of {} shown as {value}, certified {full}",
                    dir.display(),
                    column.name,
                    row[0]
                );
            }
        }
    }
    let runs = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    assert!(runs.lines().next().unwrap().contains("commit"), "{}/runs.csv has no commit", dir.display());
    true
}

#[test]
fn no_committed_table_shows_a_certificate_below_its_certified_value() {
    let strict = std::env::var("PACBAYES_RESULTS_STRICT").is_ok_and(|v| v == "1");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(results_dir())
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    folders.retain(|p| p.join("table.csv").is_file());
    folders.sort();
    let old: Vec<String> =
        folders.iter().filter(|dir| !check_folder(dir)).map(|d| d.display().to_string()).collect();
    if !old.is_empty() {
        let message = format!(
            "tables written before full-precision data files (no commit column), not checked; \
             regenerate them: {}",
            old.join(", ")
        );
        assert!(!strict, "{message}");
        eprintln!("{message}");
    }
}

#[test]
fn the_check_catches_a_certificate_shown_below_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "run,bound,commit\nr1,0.020916,abc\nr2,0.5,abc\n";
    std::fs::write(dir.path().join("table.csv"), csv).unwrap();
    std::fs::write(dir.path().join("runs.csv"), "run,seconds,schedule,commit\n").unwrap();
    let md =
        |shown: &str| format!("| run | certificate |\n|---|---:|\n| r1 | {shown} |\n| r2 | **0.5000** |\n");
    let tex = |shown: &str| {
        format!(
            "\\begin{{tabular}}{{lr}}\n\\toprule\nrun & certificate \\\\\n\\midrule\nr1 & {shown} \\\\\nr2 & \\textbf{{0.5000}} \\\\\n\\bottomrule\n\\end{{tabular}}\n"
        )
    };
    std::fs::write(dir.path().join("table.md"), md("0.0210")).unwrap();
    std::fs::write(dir.path().join("table.tex"), tex("0.0210")).unwrap();
    assert!(check_folder(dir.path()));
    std::fs::write(dir.path().join("table.tex"), tex("0.0209")).unwrap();
    assert!(
        std::panic::catch_unwind(|| check_folder(dir.path())).is_err(),
        "0.0209 < 0.020916 went unnoticed"
    );
    std::fs::write(dir.path().join("table.tex"), tex("0.0210")).unwrap();
    std::fs::write(dir.path().join("table.md"), md("0.0209")).unwrap();
    assert!(std::panic::catch_unwind(|| check_folder(dir.path())).is_err());
    std::fs::write(dir.path().join("table.csv"), "run,bound\nr1,0.0209\n").unwrap();
    assert!(!check_folder(dir.path()), "a table without a commit column is of the old format");
}
