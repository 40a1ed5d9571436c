//! The whole pipeline, data → prior → posterior → certificate → table, as experiment binaries call
//! it, on a small CSV table (the MNIST runs live in experiments/).

use std::path::{Path, PathBuf};

use pacbayes_pipeline::{Control, RunConfig, RunOutcome, TableOptions, report, run_config};

/// Runs the configuration `text` (TOML) in a new folder under `runs`.
fn run_from_toml(text: &str, runs: &Path) -> pacbayes_pipeline::Result<RunOutcome> {
    run_config(&RunConfig::from_toml(text, "the test's configuration")?, runs, &[], &Control::silent())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pacbayes-pipeline-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Two classes in 4 features, separable up to a little label noise.
fn write_csv(path: &Path) -> String {
    let mut text = "a,b,c,d,label\n".to_owned();
    for i in 0..600u32 {
        let class = i % 2;
        let sign = if class == 1 { 1.0 } else { -1.0 };
        let jitter = |k: u32| f64::from((i * k + 7) % 23) / 23.0 - 0.5;
        let label = if i % 50 == 0 { 1 - class } else { class };
        text.push_str(&format!(
            "{},{},{},{},{label}\n",
            sign + jitter(31),
            jitter(17),
            0.5 * sign + jitter(13),
            jitter(29)
        ));
    }
    std::fs::write(path, text).expect("write");
    format!("csv:{}", path.display())
}

fn config(dataset: &str, name: &str) -> String {
    format!(
        "name = \"{name}\"\n[prior]\ndataset = \"{dataset}\"\narchitecture = \"linear\"\nsigma0 = 0.1\n\
         prior_fraction = 0.5\n[prior.training]\nepochs = 5\nbatch_size = 20\nlearning_rate = 0.05\ndropout = 0.0\n\
         [posterior]\nepochs = 3\nbatch_size = 20\nlearning_rate = 0.01\n[certificate]\nrepetitions = 20\n"
    )
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

#[test]
fn a_run_leaves_a_complete_folder_whose_certificate_verifies() -> anyhow::Result<()> {
    let dir = scratch("complete");
    let dataset = write_csv(&dir.join("blobs.csv"));
    let runs = dir.join("runs");
    let outcome = run_from_toml(&config(&dataset, "blobs"), &runs)?;
    assert_eq!(outcome.run_dir, runs.join("blobs"));
    // The files the table names are those of the run folder, not of its temporary sibling.
    let table_csv = runs.join("blobs").join("table.csv").display().to_string();
    assert!(outcome.table.contains(&table_csv) && !outcome.table.contains(".tmp-"), "{}", outcome.table);
    for file in [
        "config.toml",
        "split.json",
        "prior.safetensors",
        "prior.json",
        "posterior.safetensors",
        "posterior.json",
        "metrics.csv",
        "metrics.parquet",
        "certificate.json",
        "table.csv",
        "table.md",
    ] {
        assert!(outcome.run_dir.join(file).exists(), "{file} is missing");
    }
    // n of the certificate is |S_bound| of the split, not the size of the training set.
    let split = json(&outcome.run_dir.join("split.json"));
    let n_bound = split["n_bound"].as_u64().expect("n_bound");
    assert!(n_bound < split["n_train"].as_u64().expect("n_train"));
    assert!(std::fs::read_to_string(&outcome.certificate)?.contains(&format!("\"n\": {n_bound}")));
    // The table re-verifies the certificate; no temporary folder is left behind.
    let table = report(std::slice::from_ref(&outcome.run_dir), &dir, &TableOptions::default())?;
    assert!(table.contains("blobs"), "{table}");
    let leftovers: Vec<_> = std::fs::read_dir(&runs)?.filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    Ok(())
}

#[test]
fn an_existing_run_is_never_overwritten_and_a_failed_run_leaves_nothing() -> anyhow::Result<()> {
    let dir = scratch("refuse");
    let dataset = write_csv(&dir.join("blobs.csv"));
    let runs = dir.join("runs");
    std::fs::create_dir_all(runs.join("taken"))?;
    std::fs::write(runs.join("taken").join("keep.txt"), "mine")?;
    let err = run_from_toml(&config(&dataset, "taken"), &runs).unwrap_err();
    assert!(format!("{err:#}").contains("exists already"), "{err:#}");
    assert_eq!(std::fs::read_to_string(runs.join("taken").join("keep.txt"))?, "mine");

    // A posterior setting outside its domain fails before any stage: nothing is left.
    let bad = config(&dataset, "bad").replace("[posterior]\n", "[posterior]\ndelta = 1.5\n");
    assert!(run_from_toml(&bad, &runs).is_err());
    let names: Vec<String> = std::fs::read_dir(&runs)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["taken".to_owned()]);
    Ok(())
}
