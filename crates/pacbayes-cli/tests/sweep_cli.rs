//! `pacbayes sweep` as a user would run it: a grid of tiny runs on the small table in tests/data,
//! through the local executor and, where a Slurm cluster is up (`.ci/slurm-cluster.sh start`, then
//! `PACBAYES_SLURM_TESTS=1`), through a Slurm job array.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{assert_user_error, json, pacbayes, scratch};

/// A grid of four tiny runs named `name` (two prior scales × two seeds).
fn grid(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let data = format!("csv:{}/../../tests/data/blobs.csv", env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        "name = \"{name}\"\n[base.prior]\ndataset = \"{data}\"\narchitecture = \"linear\"\nsigma0 = 0.1\n\
         [base.prior.training]\nepochs = 3\nbatch_size = 25\nlearning_rate = 0.05\ndropout = 0.0\n\
         [base.posterior]\nepochs = 2\nbatch_size = 25\n[base.certificate]\nrepetitions = 10\n\
         [grid]\n\"prior.sigma0\" = [0.05, 0.1]\nseed = [0, 1]\n"
    );
    std::fs::write(&path, text).expect("write");
    path
}

fn bounds(sweep: &Path) -> Vec<f64> {
    (0..4)
        .map(|i| {
            json(&sweep.join(format!("runs/run-00{i}/certificate.json")))["zero_one"]["bound"]
                .as_f64()
                .unwrap()
        })
        .collect()
}

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_local_sweep_runs_every_configuration_once_and_merges_them() {
    let dir = scratch("local");
    let file = grid(&dir, "tiny");
    let sweeps = dir.join("sweeps");
    let args = ["sweep", file.to_str().unwrap(), "--jobs", "2", "--sweeps-dir", sweeps.to_str().unwrap()];
    let stdout = ok(&pacbayes(&args));
    assert!(stdout.contains("4 runs made"), "{stdout}");
    let manifest = json(&sweeps.join("tiny/sweep.json"));
    assert_eq!(manifest["k"], 4);
    assert!(manifest["provenance"]["commit"].as_str().is_some_and(|c| !c.is_empty()), "{manifest}");
    assert_eq!(manifest["keys"], serde_json::json!(["prior.sigma0", "seed"]));
    assert_eq!(manifest["runs"][3]["values"], serde_json::json!(["0.1", "1"]));
    let first = bounds(&sweeps.join("tiny"));
    // A rerun finds every run finished and changes nothing.
    let stdout = ok(&pacbayes(&args));
    assert!(stdout.contains("0 runs made"), "{stdout}");
    assert_eq!(first, bounds(&sweeps.join("tiny")));
    // An unfinished run is made again: its folder removed, the rerun makes it alone.
    std::fs::remove_dir_all(sweeps.join("tiny/runs/run-002")).unwrap();
    let stdout = ok(&pacbayes(&args));
    assert!(stdout.contains("1 runs made"), "{stdout}");
    assert_eq!(first, bounds(&sweeps.join("tiny")), "the same configuration certifies the same bound");
    let status = ok(&pacbayes(&["sweep", "status", "tiny", "--sweeps-dir", sweeps.to_str().unwrap()]));
    assert!(status.contains("4 of 4 runs finished"), "{status}");
    let report = ok(&pacbayes(&["sweep", "report", "tiny", "--sweeps-dir", sweeps.to_str().unwrap()]));
    assert!(report.contains("run-003"), "{report}");
    let csv = std::fs::read_to_string(sweeps.join("tiny/table.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",prior.sigma0,seed"), "the grid's keys are columns: {header}");
    assert!(csv.lines().last().unwrap().ends_with(",0.1,1"), "{csv}");

    // The best of the four, certified again for its selection: ln 4 and δ′/4 paid, and verified.
    let s = sweeps.to_str().unwrap();
    let stdout = ok(&pacbayes(&["sweep", "report", "tiny", "--select", "best", "--sweeps-dir", s]));
    assert!(stdout.contains("among 4 configurations"), "{stdout}");
    let selected = sweeps.join("tiny/selected-certificate.json");
    let record = json(&selected);
    let best = first.iter().copied().fold(f64::INFINITY, f64::min);
    let bound = record["zero_one"]["bound"].as_f64().unwrap();
    assert!(bound > best, "the selection is paid: {bound} against {best}");
    assert_eq!(record["settings"]["configurations"], 4);
    let verified = ok(&pacbayes(&["verify", selected.to_str().unwrap()]));
    // The union over the 4 runs: δ = 0.025 and δ′ = 0.01 in all, not δ′/4.
    assert!(verified.contains("probability ≥ 0.965"), "{verified}");
    let mut unpaid = record.clone();
    unpaid["zero_one"]["bound"] = serde_json::json!(best);
    let tampered = dir.join("tampered.json");
    std::fs::write(&tampered, serde_json::to_string_pretty(&unpaid).unwrap()).unwrap();
    assert_eq!(pacbayes(&["verify", tampered.to_str().unwrap()]).status.code(), Some(2));
    // The best prior scale for each seed: two choices, each among 2.
    let stdout =
        ok(&pacbayes(&["sweep", "report", "tiny", "--select", "best", "--per", "seed", "--sweeps-dir", s]));
    assert_eq!(stdout.matches("among 2 configurations").count(), 2, "{stdout}");
    for seed in ["0", "1"] {
        let record = json(&sweeps.join(format!("tiny/selected/seed={seed}.json")));
        assert_eq!(record["settings"]["configurations"], 2);
    }
    let bad = pacbayes(&["sweep", "report", "tiny", "--select", "best", "--per", "alpha", "--sweeps-dir", s]);
    assert_user_error(&bad, "--per alpha");
}

#[test]
fn bad_grids_and_folders_are_refused_before_anything_runs() {
    let dir = scratch("bad");
    let sweeps = dir.join("sweeps");
    let good = std::fs::read_to_string(grid(&dir, "g")).unwrap();
    let cases = [
        (good.replace("\"prior.sigma0\"", "\"prior.sigma\""), "prior.sigma"),
        (good.replace("[0.05, 0.1]", "[]"), "empty list"),
        (good.replace("seed = [0, 1]", "seed = [0, 1]\nnope = [1]"), "nope"),
    ];
    for (text, mentions) in cases {
        let file = dir.join("bad.toml");
        std::fs::write(&file, text).unwrap();
        let out = pacbayes(&["sweep", file.to_str().unwrap(), "--sweeps-dir", sweeps.to_str().unwrap()]);
        assert_user_error(&out, mentions);
        assert!(!sweeps.join("g").exists(), "nothing is written for a bad grid");
    }
    let file = grid(&dir, "g");
    let many = pacbayes(&[
        "sweep",
        file.to_str().unwrap(),
        "--max-runs",
        "3",
        "--sweeps-dir",
        sweeps.to_str().unwrap(),
    ]);
    assert_user_error(&many, "--max-runs 4");
    // A folder made with another grid is not reused.
    ok(&pacbayes(&["sweep", file.to_str().unwrap(), "--dry-run", "--sweeps-dir", sweeps.to_str().unwrap()]));
    std::fs::write(&file, good.replace("[0.05, 0.1]", "[0.05, 0.04]")).unwrap();
    let other = pacbayes(&["sweep", file.to_str().unwrap(), "--sweeps-dir", sweeps.to_str().unwrap()]);
    assert_user_error(&other, "another grid");
    // Slurm without sbatch: nothing is submitted.
    let file = grid(&dir, "s");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pacbayes"))
        .args([
            "sweep",
            file.to_str().unwrap(),
            "--executor",
            "slurm",
            "--sweeps-dir",
            sweeps.to_str().unwrap(),
        ])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_user_error(&out, "sbatch");
    assert!(!sweeps.join("s").exists());
    let bad_index =
        pacbayes(&["sweep", "run-task", "g", "--index", "9", "--sweeps-dir", sweeps.to_str().unwrap()]);
    assert_user_error(&bad_index, "--index 9");
}

#[test]
fn a_slurm_dry_run_writes_the_job_array_script() {
    let dir = scratch("dry");
    let file = grid(&dir, "d");
    let sweeps = dir.join("sweeps");
    let stdout = ok(&pacbayes(&[
        "sweep",
        file.to_str().unwrap(),
        "--executor",
        "slurm",
        "--dry-run",
        "--array-limit",
        "2",
        "--partition",
        "gpu",
        "--time",
        "01:00:00",
        "--sbatch-arg=--account=lab",
        "--sweeps-dir",
        sweeps.to_str().unwrap(),
    ]));
    assert!(stdout.contains("not submitted"), "{stdout}");
    let script = std::fs::read_to_string(sweeps.join("d/slurm/submit-1.sh")).unwrap();
    for line in [
        "#SBATCH --array=0-3%2",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=01:00:00",
        "#SBATCH --account=lab",
    ] {
        assert!(script.contains(line), "{line} missing:\n{script}");
    }
    assert!(script.contains("sweep run-task d --index \"$SLURM_ARRAY_TASK_ID\""), "{script}");
}

/// Waits until every run of the sweep has finished and Slurm holds none of its tasks.
fn wait_for(sweeps: &Path, name: &str, runs: usize) {
    let start = Instant::now();
    loop {
        let status = ok(&pacbayes(&["sweep", "status", name, "--sweeps-dir", sweeps.to_str().unwrap()]));
        let queued = status.lines().any(|l| l.contains("pending") || l.contains("running"));
        if !queued && status.contains(&format!("{runs} of 4 runs finished")) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(300), "the sweep did not finish:\n{status}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_slurm_sweep_gives_the_local_certificates_and_reruns_only_what_is_missing() {
    if std::env::var_os("PACBAYES_SLURM_TESTS").is_none() {
        eprintln!(
            "skipped: no Slurm cluster (start one with .ci/slurm-cluster.sh start, set PACBAYES_SLURM_TESTS=1)"
        );
        return;
    }
    let dir = scratch("slurm");
    let sweeps = dir.join("sweeps");
    let s = sweeps.to_str().unwrap();
    let local = grid(&dir, "local");
    ok(&pacbayes(&["sweep", local.to_str().unwrap(), "--sweeps-dir", s]));
    let file = grid(&dir, "cluster");
    let stdout = ok(&pacbayes(&[
        "sweep",
        file.to_str().unwrap(),
        "--executor",
        "slurm",
        "--cpus-per-task",
        "1",
        "--sweeps-dir",
        s,
    ]));
    assert!(stdout.contains("submitted job"), "{stdout}");
    wait_for(&sweeps, "cluster", 4);
    assert_eq!(bounds(&sweeps.join("local")), bounds(&sweeps.join("cluster")), "bit-identical certificates");

    // A second sweep, one task at a time; the last task is cancelled before it runs.
    let file = grid(&dir, "cut");
    let stdout = ok(&pacbayes(&[
        "sweep",
        file.to_str().unwrap(),
        "--executor",
        "slurm",
        "--cpus-per-task",
        "1",
        "--array-limit",
        "1",
        "--sbatch-arg=--begin=now+2",
        "--sweeps-dir",
        s,
    ]));
    let job = stdout.split_whitespace().nth(2).unwrap().trim_end_matches(':').to_owned();
    let cancelled = std::process::Command::new("scancel").arg(format!("{job}_3")).status().unwrap();
    assert!(cancelled.success());
    wait_for(&sweeps, "cut", 3);
    let kept =
        std::fs::metadata(sweeps.join("cut/runs/run-000/certificate.json")).unwrap().modified().unwrap();
    let stdout = ok(&pacbayes(&[
        "sweep",
        file.to_str().unwrap(),
        "--executor",
        "slurm",
        "--cpus-per-task",
        "1",
        "--sweeps-dir",
        s,
    ]));
    assert!(stdout.contains("1 array tasks"), "{stdout}");
    wait_for(&sweeps, "cut", 4);
    let after =
        std::fs::metadata(sweeps.join("cut/runs/run-000/certificate.json")).unwrap().modified().unwrap();
    assert_eq!(kept, after, "a finished run is not made again");
    assert_eq!(bounds(&sweeps.join("local")), bounds(&sweeps.join("cut")));
}
