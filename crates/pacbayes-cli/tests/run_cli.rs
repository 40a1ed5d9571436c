//! `pacbayes run` as a user would run it, on the small table in tests/data (MNIST runs are in
//! experiments/).

mod common;

use common::{assert_user_error, json, pacbayes, scratch};

/// The workspace's small two-class table.
fn blobs() -> String {
    format!("csv:{}/../../tests/data/blobs.csv", env!("CARGO_MANIFEST_DIR"))
}

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("run.toml");
    let text = format!(
        "[prior]\ndataset = \"{}\"\narchitecture = \"linear\"\nsigma0 = 0.1\n[prior.training]\nepochs = 3\n\
         batch_size = 25\nlearning_rate = 0.05\ndropout = 0.0\n[posterior]\nepochs = 2\nbatch_size = 25\n\
         [certificate]\nrepetitions = 10\n",
        blobs()
    );
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn a_run_prints_its_row_and_certificate_and_is_never_overwritten() {
    let dir = scratch("run");
    let config = config(&dir);
    let runs = dir.join("runs");
    let args = [
        "run",
        "--config",
        config.to_str().unwrap(),
        "--runs-dir",
        runs.to_str().unwrap(),
        "--name",
        "blobs",
    ];
    let out = pacbayes(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Every path printed is where the file is once the run is finished, not in the temporary folder.
    assert!(!stdout.contains(".tmp-") && !stderr.contains(".tmp-"), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "certificate written to {}",
            runs.join("blobs").join("certificate.json").display()
        )),
        "{stderr}"
    );
    let table = stdout.lines().take_while(|l| !l.starts_with("written:"));
    assert!(
        table.clone().count() >= 3 && table.clone().all(|l| l.chars().count() <= 100),
        "wider than 100:\n{stdout}"
    );
    // The summary shows the certificate rounded up.
    let bound = json(&runs.join("blobs").join("certificate.json"))["zero_one"]["bound"].as_f64().unwrap();
    let shown = pacbayes_eval::show(bound, pacbayes_eval::Kind::UpperBound, 4);
    assert!(stderr.contains(&format!("risk <= {shown}")), "{shown}: {stderr}");
    let certificate = runs.join("blobs").join("certificate.json");
    assert!(stdout.contains(&format!("certificate: {}", certificate.display())), "{stdout}");
    assert!(stdout.contains("blobs"), "{stdout}");
    let record = json(&certificate);
    assert_eq!(record["run"], "blobs");
    // The resolved configuration is saved with every default written out.
    let saved = std::fs::read_to_string(runs.join("blobs").join("config.toml")).expect("config.toml");
    assert!(saved.contains("delta_mc") && saved.contains("objective"), "{saved}");
    assert!(pacbayes(&["verify", certificate.to_str().unwrap()]).status.success());

    let again = pacbayes(&args);
    assert_user_error(&again, "exists already");
}

#[test]
fn an_unknown_key_names_the_file_and_line() {
    let dir = scratch("bad-key");
    let config = dir.join("bad.toml");
    std::fs::write(&config, "[posterior]\nepochs = 2\nlearning_rat = 0.1\n").expect("write");
    let runs = dir.join("runs");
    let out = pacbayes(&["run", "--config", config.to_str().unwrap(), "--runs-dir", runs.to_str().unwrap()]);
    assert_user_error(&out, "line 3");
    assert!(String::from_utf8_lossy(&out.stderr).contains("learning_rat"));
    assert!(!runs.exists() || std::fs::read_dir(&runs).expect("runs").next().is_none());
}

#[test]
fn a_bad_certificate_setting_fails_before_the_prior_is_fitted() {
    let dir = scratch("bad-delta");
    let config = dir.join("bad.toml");
    // The MNIST defaults would train for minutes before the certificate stage.
    std::fs::write(&config, "[certificate]\ndelta = 1.5\n").expect("write");
    let runs = dir.join("runs");
    let start = std::time::Instant::now();
    let out = pacbayes(&["run", "--config", config.to_str().unwrap(), "--runs-dir", runs.to_str().unwrap()]);
    assert_user_error(&out, "[certificate]");
    assert_user_error(&out, "delta");
    assert!(start.elapsed().as_secs_f64() < 5.0, "took {:?}", start.elapsed());
    assert!(!runs.exists() || std::fs::read_dir(&runs).unwrap().next().is_none(), "nothing is left behind");
}

#[test]
fn a_laplace_run_is_certified_and_verified_and_local_mode_is_refused_up_front() {
    let dir = scratch("laplace");
    let runs = dir.join("runs");
    let base = std::fs::read_to_string(config(&dir)).expect("config");
    // The FCN's default mode is local: refused before any work, naming the setting to change.
    let local = dir.join("local.toml");
    std::fs::write(&local, base.replace("[posterior]\n", "[posterior]\nmode = \"local\"\n") + "")
        .expect("write");
    let with_family = |path: &std::path::Path| {
        let text = std::fs::read_to_string(path).expect("read");
        std::fs::write(path, text.replace("sigma0 = 0.1\n", "sigma0 = 0.1\ndistribution = \"laplace\"\n"))
            .expect("write");
    };
    with_family(&local);
    let start = std::time::Instant::now();
    let out = pacbayes(&["run", "--config", local.to_str().unwrap(), "--runs-dir", runs.to_str().unwrap()]);
    assert_user_error(&out, "mode = \"sample\"");
    assert!(start.elapsed().as_secs_f64() < 5.0, "took {:?}", start.elapsed());
    assert!(!runs.exists() || std::fs::read_dir(&runs).unwrap().next().is_none(), "nothing is left behind");

    let sample = dir.join("sample.toml");
    std::fs::write(&sample, base.replace("[posterior]\n", "[posterior]\nmode = \"sample\"\n"))
        .expect("write");
    with_family(&sample);
    let args = ["run", "--config", sample.to_str().unwrap(), "--runs-dir", runs.to_str().unwrap()];
    let out = pacbayes(&[&args[..], &["--name", "laplace"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = runs.join("laplace");
    let prior = json(&run.join("prior.json"));
    assert_eq!(prior["distribution"], "laplace", "{prior}");
    let record = json(&run.join("certificate.json"));
    let bound = record["zero_one"]["bound"].as_f64().unwrap();
    assert!(bound > 0.0 && bound < 1.0, "{record}");
    let renyi = record["disintegrated"]["renyi"]["divergence"].as_f64().unwrap();
    assert!(renyi >= record["kl"].as_f64().unwrap(), "D_2 ≥ KL: {record}");
    // verify --run recomputes the Laplace KL and ln dQ/dP from the files and re-estimates ê.
    let verified = pacbayes(&["verify", "--run", run.to_str().unwrap(), "--budget", "1"]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    // The same run with Gaussians gives another certificate: the family reached the computation.
    let gaussian = dir.join("gaussian.toml");
    std::fs::write(&gaussian, base.replace("[posterior]\n", "[posterior]\nmode = \"sample\"\n"))
        .expect("write");
    let out = pacbayes(&[
        "run",
        "--config",
        gaussian.to_str().unwrap(),
        "--runs-dir",
        runs.to_str().unwrap(),
        "--name",
        "gaussian",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let other = json(&runs.join("gaussian").join("certificate.json"));
    let kl = |r: &serde_json::Value| r["kl"].as_f64().unwrap();
    assert!((kl(&record) - kl(&other)).abs() > 1e-9, "{} vs {}", kl(&record), kl(&other));
}

/// `--device` on every command that builds tensors: a GPU this build has no backend for is refused
/// before any work, naming the cargo feature that builds it.
#[cfg(not(feature = "cuda"))]
#[test]
fn a_device_without_its_backend_names_the_cargo_feature() {
    let dir = scratch("device");
    let run = dir.join("run");
    let r = run.to_str().unwrap();
    let input = dir.join("x.csv");
    let i = input.to_str().unwrap();
    for args in [
        vec!["run", "--runs-dir", dir.to_str().unwrap(), "--device", "cuda"],
        vec!["prior", "--dataset", &blobs(), "--architecture", "linear", "--out", r, "--device", "cuda"],
        vec!["posterior", "--prior", r, "--device", "cuda:1"],
        vec!["certify", "--run", r, "--device", "cuda"],
        vec!["verify", "--run", r, "--device", "cuda"],
        vec!["predict", "--run", r, "--input", i, "--device", "cuda"],
    ] {
        assert_user_error(&pacbayes(&args), "device \"cuda");
        assert_user_error(&pacbayes(&args), "--features cuda");
    }
    // The key `device` of a run configuration.
    let config = dir.join("gpu.toml");
    std::fs::write(&config, "device = \"cuda\"\n").unwrap();
    let c = config.to_str().unwrap();
    assert_user_error(
        &pacbayes(&["run", "--config", c, "--runs-dir", dir.to_str().unwrap()]),
        "--features cuda",
    );
    assert!(!run.exists());
    assert_user_error(&pacbayes(&["posterior", "--prior", r, "--device", "tpu"]), "cpu, cuda");
    // The CPU by name is the default.
    let made = pacbayes(
        &["prior", "--dataset", &blobs(), "--architecture", "linear", "--kind", "data-free"]
            .into_iter()
            .chain(["--sigma0", "0.1", "--out", r, "--device", "cpu"])
            .collect::<Vec<_>>(),
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
}
