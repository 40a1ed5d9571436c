//! `pacbayes posterior` run as a user would, on a prior made from a small CSV table.

mod common;

use common::{assert_user_error, json, pacbayes, scratch};

use std::path::{Path, PathBuf};

/// Two overlapping classes in 3 features, so that the posterior has something to learn.
fn write_csv(path: &Path) -> String {
    let mut text = "a,b,c,label\n".to_owned();
    for i in 0..400 {
        let class = i % 2;
        let shift = if class == 1 { 0.8 } else { -0.8 };
        let jitter = ((i * 37) % 17) as f64 / 8.0 - 1.0;
        let other = ((i * 53) % 13) as f64 / 6.0 - 1.0;
        text.push_str(&format!("{},{other},{},{class}\n", shift + jitter, -shift * 0.5 + other * jitter));
    }
    std::fs::write(path, text).expect("write");
    format!("csv:{}", path.display())
}

/// A run folder with a data-free prior on the table.
fn run_folder(dir: &Path) -> PathBuf {
    let dataset = write_csv(&dir.join("blobs.csv"));
    let run = dir.join("run");
    let made = pacbayes(&[
        "prior",
        "--kind",
        "data-free",
        "--dataset",
        &dataset,
        "--architecture",
        "linear",
        "--sigma0",
        "0.1",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    run
}

#[test]
fn a_posterior_is_trained_saved_and_resumed() {
    let dir = scratch("train");
    let run = run_folder(&dir);
    let r = run.to_str().unwrap();
    let config = dir.join("posterior.toml");
    std::fs::write(&config, "objective = \"f-classic\"\noptimizer = \"adam\"\nbatch_size = 50\n").unwrap();
    // The posterior of the run folder `folder`, trained (or resumed) to `epochs` epochs: flags over
    // the configuration file.
    let train = |folder: &str, epochs: &str, resume: bool| {
        let mut args = vec!["posterior", "--prior", folder, "--config", config.to_str().unwrap()];
        args.extend(["--objective", "f-quad", "--epochs", epochs, "--learning-rate", "0.01", "--seed", "4"]);
        if resume {
            args.push("--resume");
        }
        pacbayes(&args)
    };
    let trained = train(r, "3", false);
    let stderr = String::from_utf8_lossy(&trained.stderr);
    assert!(trained.status.success(), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.contains("posterior epoch")).count(), 3, "{stderr}");
    assert!(String::from_utf8_lossy(&trained.stdout).contains("posterior saved in"));
    for f in ["posterior.safetensors", "posterior.json", "metrics.csv", "metrics.parquet", "checkpoint"] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    let record = json(&run.join("posterior.json"));
    assert_eq!(record["objective"], "f-quad");
    assert_eq!(record["settings"]["optimizer"], "adam");
    assert_eq!(record["settings"]["batch_size"], 50);
    assert_eq!(record["seed"], 4);
    assert_eq!(record["epochs_run"], 3);
    assert_eq!(record["stop_reason"], "completed");
    assert_eq!(record["architecture"], "linear-3-2");
    assert!(record["kl"].as_f64().unwrap() > 0.0);
    assert_eq!(record["n_bound"], record["split"]["n_bound"]);
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 1 + 3, "a header, the start (epoch 0) and 3 epochs: {csv}");

    // A finished posterior is not written over without --resume ...
    assert_user_error(&pacbayes(&["posterior", "--prior", r, "--epochs", "3"]), "exists already");
    // ... and --resume with other settings is refused, naming the setting.
    let other = pacbayes(&["posterior", "--prior", r, "--resume", "--epochs", "5", "--seed", "4"]);
    assert_eq!(other.status.code(), Some(2), "{}", String::from_utf8_lossy(&other.stderr));
    assert!(String::from_utf8_lossy(&other.stderr).contains("differs"));
    // With the same settings it continues to 5 epochs.
    let resumed = train(r, "5", true);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.contains("posterior epoch")).count(), 2, "{stderr}");
    assert_eq!(json(&run.join("posterior.json"))["epochs_run"], 5);
    assert_eq!(std::fs::read_to_string(run.join("metrics.csv")).unwrap().lines().count(), 1 + 1 + 5);

    // The same 5 epochs without a stop: every file the two runs share is the same, byte for byte,
    // the certificate included; only timings.json and the checkpoint's working state hold the clock.
    // (In a folder of the same name: the run's name is part of its certificate.)
    let through = dir.join("through").join("run");
    std::fs::create_dir_all(&through).unwrap();
    for f in ["prior.safetensors", "prior.json", "split.json"] {
        std::fs::copy(run.join(f), through.join(f)).unwrap();
    }
    let t = through.to_str().unwrap();
    let uninterrupted = train(t, "5", false);
    assert!(uninterrupted.status.success(), "{}", String::from_utf8_lossy(&uninterrupted.stderr));
    for folder in [r, t] {
        let certified = pacbayes(&["certify", "--run", folder, "--repetitions", "3", "--seed", "2"]);
        assert!(certified.status.success(), "{}", String::from_utf8_lossy(&certified.stderr));
    }
    let mut compared = 0;
    for entry in std::fs::read_dir(&through).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name == "timings.json" || name == "checkpoint" {
            continue;
        }
        let (a, b) = (std::fs::read(run.join(&name)).unwrap(), std::fs::read(through.join(&name)).unwrap());
        assert!(a == b, "{name} differs between the resumed and the uninterrupted run");
        compared += 1;
    }
    assert!(compared >= 8, "{compared} files compared");
    let timings = json(&run.join("timings.json"));
    assert!(timings["posterior"]["seconds"].as_f64().unwrap() > 0.0, "{timings}");
    assert_eq!(timings["posterior"]["epoch_seconds"].as_array().unwrap().len(), 6, "{timings}");
    assert!(timings["certificate"]["total"].as_f64().unwrap() > 0.0, "{timings}");
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    let dir = scratch("bad");
    let run = run_folder(&dir);
    let r = run.to_str().unwrap();
    // An enumerated flag is refused by the parser, which lists the values it takes.
    for (flag, bad, values) in [
        ("--objective", "f-foo", "[possible values: f-classic, f-quad, f-lambda, f-kl, bbb]"),
        ("--optimizer", "lbfgs", "[possible values: sgd, adam]"),
        ("--train-on", "prior", "[possible values: all, bound]"),
        ("--mode", "mean", "[possible values: local, sample]"),
        ("--preconditioner", "fisher", "[possible values: kl, none]"),
    ] {
        let out = pacbayes(&["posterior", "--prior", r, flag, bad]);
        assert_user_error(&out, values);
        assert_user_error(&out, &format!("invalid value '{bad}' for '{flag} <"));
    }
    assert_user_error(&pacbayes(&["posterior", "--prior", r, "--delta", "1.5"]), "delta");
    assert_user_error(&pacbayes(&["posterior", "--prior", r, "--epochs", "0"]), "epochs");
    assert_user_error(&pacbayes(&["posterior", "--prior", r, "--epochs", "many"]), "epochs");
    assert_user_error(&pacbayes(&["posterior", "--prior", r, "--resume"]), "resume");
    let missing = dir.join("nowhere");
    assert_user_error(&pacbayes(&["posterior", "--prior", missing.to_str().unwrap()]), "pacbayes prior");
    let config = dir.join("bad.toml");
    std::fs::write(&config, "epochs = 2\nlearning_rat = 0.1\n").unwrap();
    assert_user_error(
        &pacbayes(&["posterior", "--prior", r, "--config", config.to_str().unwrap()]),
        "line 2",
    );
    // A value that is not one of a key's is refused when the file is read, with its line and key.
    std::fs::write(&config, "epochs = 2\nobjective = \"f-foo\"\n").unwrap();
    let out = pacbayes(&["posterior", "--prior", r, "--config", config.to_str().unwrap()]);
    assert_user_error(
        &out,
        "line 2: objective: unknown variant `f-foo`, expected one of `f-classic`, `f-quad`",
    );
    // Divergence is reported with where it happened; nothing final is written.
    let diverged = pacbayes(&["posterior", "--prior", r, "--learning-rate", "1e38", "--epochs", "2"]);
    let err = String::from_utf8_lossy(&diverged.stderr);
    assert_eq!(diverged.status.code(), Some(2), "{err}");
    assert!(err.lines().last().unwrap().contains("diverged at epoch"), "{err}");
    assert!(!run.join("posterior.json").exists());
}
