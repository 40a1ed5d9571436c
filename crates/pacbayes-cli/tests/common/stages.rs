//! The three stages of a small run on the workspace's table, for the tests of faults: each lasts
//! about a tenth of a second.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::pacbayes;

/// The workspace's small two-class table.
pub fn blobs() -> String {
    format!("csv:{}/../../tests/data/blobs.csv", env!("CARGO_MANIFEST_DIR"))
}

/// The three stages of the run in folder `run`, as `pacbayes` arguments. Sizes are chosen so that
/// each stage lasts about a tenth of a second (a learnt prior of 60 epochs, a posterior of 12 epochs
/// with a checkpoint after each, a certificate of 400 repetitions).
pub fn stage(which: Stage, run: &Path) -> Vec<String> {
    let run = run.to_str().expect("a UTF-8 path").to_owned();
    let args: Vec<&str> = match which {
        Stage::Prior => vec![
            "prior",
            "--dataset",
            "DATA",
            "--architecture",
            "linear",
            "--sigma0",
            "0.1",
            "--epochs",
            "60",
            "--batch-size",
            "25",
            "--learning-rate",
            "0.05",
            "--dropout",
            "0",
            "--seed",
            "3",
            "--out",
            "RUN",
        ],
        Stage::Posterior => {
            vec!["posterior", "--prior", "RUN", "--epochs", "12", "--batch-size", "25", "--seed", "3"]
        }
        Stage::Certificate => vec!["certify", "--run", "RUN", "--repetitions", "400", "--seed", "3"],
    };
    let data = blobs();
    args.into_iter()
        .map(|a| match a {
            "DATA" => data.clone(),
            "RUN" => run.clone(),
            other => other.to_owned(),
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Prior = 0,
    Posterior = 1,
    Certificate = 2,
}

pub fn run(args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    pacbayes(&args)
}

pub fn ok(out: &Output, what: &str) {
    assert!(out.status.success(), "{what}: {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
}

/// A finished prior in `dir/run`.
pub fn prior_folder(dir: &Path) -> PathBuf {
    let run_dir = dir.join("run");
    ok(&run(&stage(Stage::Prior, &run_dir)), "prior");
    run_dir
}

/// The files a stage leaves in `run`, hidden temporaries included.
pub fn files(run_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
