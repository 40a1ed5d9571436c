//! `pacbayes prior` run as a user would, on a small CSV table (MNIST runs are in experiments/).

mod common;

use common::{assert_user_error, pacbayes, scratch};

use std::path::Path;

/// Two well-separated classes in 3 features: a linear prior learns them in a few epochs.
fn write_csv(path: &Path) -> String {
    let mut text = "a,b,c,label\n".to_owned();
    for i in 0..400 {
        let class = i % 2;
        let shift = if class == 1 { 2.0 } else { -2.0 };
        let jitter = ((i * 37) % 17) as f64 / 17.0 - 0.5;
        text.push_str(&format!("{},{},{},{class}\n", shift + jitter, jitter, -shift * 0.5 + jitter));
    }
    std::fs::write(path, text).expect("write");
    format!("csv:{}", path.display())
}

#[test]
fn a_learnt_prior_is_fitted_and_saved_with_its_record() {
    let dir = scratch("learnt");
    let dataset = write_csv(&dir.join("blobs.csv"));
    let out = dir.join("prior");
    let config = dir.join("prior.toml");
    std::fs::write(&config, "architecture = \"linear\"\nsigma0 = 0.05\n[training]\nepochs = 4\nbatch_size = 20\nlearning_rate = 0.05\n")
        .expect("write");
    let run = pacbayes(&[
        "prior",
        "--config",
        config.to_str().unwrap(),
        "--dataset",
        &dataset,
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "3",
        "--dropout",
        "0",
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.contains("epoch")).count(), 4, "one line per epoch: {stderr}");
    assert!(out.join("prior.safetensors").is_file());
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("prior.json")).unwrap()).unwrap();
    assert_eq!(record["kind"], "learnt");
    assert_eq!(record["architecture"], "linear-3-2");
    assert_eq!(record["seed"], 3);
    assert_eq!(record["fit"]["curve"].as_array().unwrap().len(), 4);
    assert!(record["split"]["n_prior"].as_u64().unwrap() > 0);
    assert!(record["mean_test_error"].as_f64().unwrap() < 0.1, "{record}");

    // `pacbayes data info` with the same dataset and seed, and otherwise its defaults, describes the
    // split of this run: its defaults are those of `pacbayes prior`.
    let info = pacbayes(&["data", "info", "--dataset", &dataset, "--seed", "3", "--json"]);
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let manifest: serde_json::Value = serde_json::from_slice(&info.stdout).expect("json manifest");
    assert!(record["split"]["n_validation"].as_u64().unwrap() > 0, "{record}");
    assert_eq!(manifest, record["split"]);

    // Never written over.
    let again = pacbayes(&[
        "prior",
        "--dataset",
        &dataset,
        "--architecture",
        "linear",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_user_error(&again, "exists already");
}

#[test]
fn a_data_free_prior_charges_its_scale_grid() {
    let dir = scratch("free");
    let dataset = write_csv(&dir.join("blobs.csv"));
    let out = dir.join("prior");
    let run = pacbayes(&[
        "prior",
        "--kind",
        "data-free",
        "--dataset",
        &dataset,
        "--architecture",
        "linear",
        "--sigma0",
        "0.1",
        "--scale-grid",
        "0.01,0.1,1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("prior.json")).unwrap()).unwrap();
    assert!((record["union_cost_nats"].as_f64().unwrap() - 3f64.ln()).abs() < 1e-12);
    // A data-free prior saw no data, but the run's split is recorded all the same: S_bound is what
    // the certificate will be computed on.
    assert!(record["split"]["n_bound"].as_u64().is_some_and(|n| n > 0));
    assert!(out.join("split.json").exists());
}

#[test]
fn bad_settings_exit_2_and_leave_nothing() {
    let dir = scratch("bad");
    let dataset = write_csv(&dir.join("blobs.csv"));
    let out = dir.join("prior");
    let o = out.to_str().unwrap();
    let config = dir.join("bad.toml");
    std::fs::write(&config, "architecture = \"linear\"\nlearning_rat = 0.1\n").unwrap();
    assert_user_error(
        &pacbayes(&["prior", "--config", config.to_str().unwrap(), "--dataset", &dataset, "--out", o]),
        "line 2",
    );
    assert_user_error(
        &pacbayes(&["prior", "--dataset", &dataset, "--architecture", "resnet", "--out", o]),
        "resnet",
    );
    assert_user_error(
        &pacbayes(&["prior", "--dataset", &dataset, "--architecture", "linear", "--sigma0", "0", "--out", o]),
        "sigma0",
    );
    // Progress lines for the epochs that ran come first; the error is the last line.
    let diverged = pacbayes(&[
        "prior",
        "--dataset",
        &dataset,
        "--architecture",
        "linear",
        "--learning-rate",
        "1e300",
        "--out",
        o,
    ]);
    let err = String::from_utf8_lossy(&diverged.stderr);
    assert_eq!(diverged.status.code(), Some(2), "{err}");
    assert!(diverged.stdout.is_empty());
    assert!(err.lines().last().unwrap().starts_with("error: training diverged"), "{err}");
    assert_user_error(
        &pacbayes(&[
            "prior",
            "--kind",
            "from-file",
            "--from",
            "/nonexistent.safetensors",
            "--dataset",
            &dataset,
            "--architecture",
            "linear",
            "--out",
            o,
        ]),
        "nonexistent",
    );
    // No folder, finished or half-written, is left behind.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn a_fisher_shaped_scale_is_fitted_on_s_prior_and_recorded() {
    let dir = scratch("fisher");
    let dataset = write_csv(&dir.join("blobs.csv"));
    let out = dir.join("prior");
    let config = dir.join("prior.toml");
    std::fs::write(
        &config,
        "architecture = \"linear\"\nsigma0 = 0.05\nscale_grid = []\nscale = \"fisher\"\n[training]\nepochs = 3\nbatch_size = 20\nlearning_rate = 0.05\n",
    )
    .expect("write");
    let args = ["prior", "--config", config.to_str().unwrap(), "--dataset", &dataset, "--out"];
    let run = pacbayes(&[&args[..], &[out.to_str().unwrap()]].concat());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("prior.json")).unwrap()).unwrap();
    let fit = &record["scale_fit"];
    assert!(fit["n_prior"].as_u64().unwrap() > 0 && fit["n_validation"].as_u64().unwrap() > 0, "{record}");
    assert_eq!(fit["candidates"].as_array().unwrap().len(), 5);
    assert!(record["union_cost_nats"].as_f64().unwrap().abs() < 1e-12, "S_prior-only choices are free");
    // A data-free prior has no S_prior to fit a scale on.
    let refused = pacbayes(&[
        "prior",
        "--dataset",
        &dataset,
        "--architecture",
        "linear",
        "--kind",
        "data-free",
        "--scale",
        "fisher",
        "--out",
        dir.join("free").to_str().unwrap(),
    ]);
    assert_user_error(&refused, "scale");
}

/// `pacbayes prior` of the linear model on `dataset` for 3 ERM epochs at σ₀ = 0.05 (no grid), its
/// scale shaped by `scale`, into `out`.
fn fit_linear_prior(dataset: &str, scale: &str, out: &Path) -> std::process::Output {
    let fixed = [
        "prior",
        "--architecture",
        "linear",
        "--sigma0",
        "0.05",
        "--no-scale-grid",
        "--epochs",
        "3",
        "--batch-size",
        "20",
        "--learning-rate",
        "0.05",
    ];
    pacbayes(
        &[&fixed[..], &["--dataset", dataset, "--scale", scale, "--out", out.to_str().unwrap()]].concat(),
    )
}

#[test]
fn per_layer_scales_are_chosen_on_the_validation_slice_and_recorded() {
    let dir = scratch("per-layer");
    let dataset = write_csv(&dir.join("blobs.csv"));
    let out = dir.join("prior");
    let run = fit_linear_prior(&dataset, "per-layer", &out);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("prior.json")).unwrap()).unwrap();
    let fit = &record["scale_fit"];
    // One layer, five candidates; the chosen multiple of sigma0 is one of them.
    assert_eq!(fit["candidates"].as_array().unwrap().len(), 5, "{record}");
    let chosen = fit["multipliers"].as_array().unwrap();
    assert_eq!(chosen.len(), 1);
    assert!([0.5, 1.0, 2.0, 4.0, 8.0].iter().any(|m| (chosen[0].as_f64().unwrap() - m).abs() < 1e-12));
    assert!(record["description"].as_str().unwrap().contains("per-layer"), "{record}");
    assert!(record["union_cost_nats"].as_f64().unwrap().abs() < 1e-12, "S_prior-only choices are free");
}

#[test]
fn a_swag_scale_is_fitted_on_s_prior_and_recorded() {
    let dir = scratch("swag");
    let dataset = write_csv(&dir.join("blobs.csv"));
    let out = dir.join("prior");
    let run_with = |scale, out: &Path| fit_linear_prior(&dataset, scale, out);
    let run = run_with("swag", &out);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("prior.json")).unwrap()).unwrap();
    let fit = &record["scale_fit"];
    // The defaults: 5 more epochs, 4 snapshots each, at the ERM's learning rate; five candidates,
    // the chosen multiple of sigma0 one of them.
    assert_eq!(fit["settings"]["epochs"].as_u64(), Some(5), "{record}");
    assert_eq!(fit["snapshots"].as_u64(), Some(20), "{record}");
    assert!((fit["learning_rate"].as_f64().unwrap() - 0.05).abs() < 1e-12, "{record}");
    assert_eq!(fit["candidates"].as_array().unwrap().len(), 5, "{record}");
    let m = fit["multiplier"].as_f64().unwrap();
    assert!([0.5, 1.0, 2.0, 4.0, 8.0].iter().any(|c| (m - c).abs() < 1e-12), "{m}");
    assert!((fit["scale"].as_f64().unwrap() - m * 0.05).abs() < 1e-12, "{record}");
    for key in ["erm_validation_error", "mean_validation_error"] {
        assert!((0.0..=1.0).contains(&fit[key].as_f64().unwrap()), "{key}: {record}");
    }
    assert!(fit["n_prior"].as_u64().unwrap() > 0 && fit["n_validation"].as_u64().unwrap() > 0, "{record}");
    assert!(record["description"].as_str().unwrap().contains("swag"), "{record}");
    assert!(record["union_cost_nats"].as_f64().unwrap().abs() < 1e-12, "S_prior-only choices are free");
    // `ensemble` names the same family; a misspelt one is a usage error that lists them.
    let alias = dir.join("alias");
    let run = run_with("ensemble", &alias);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(alias.join("prior.json")).unwrap()).unwrap();
    assert_eq!(again["scale_fit"], record["scale_fit"], "the alias fits the same prior");
    let refused = run_with("swa", &dir.join("x"));
    assert_user_error(&refused, "swag");
}

#[test]
fn a_pac_bayes_scale_is_a_posterior_trained_on_s_prior_and_recorded() {
    let dir = scratch("pac-bayes");
    let dataset = write_csv(&dir.join("blobs.csv"));
    let out = dir.join("prior");
    let run = fit_linear_prior(&dataset, "pac-bayes", &out);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("prior.json")).unwrap()).unwrap();
    let fit = &record["scale_fit"];
    // The defaults: f-quad trained 10 epochs on S_prior (epoch 0 is the start at the learnt prior),
    // five candidates, the chosen multiple of its scales one of them.
    assert_eq!(fit["settings"]["objective"], "f-quad", "{record}");
    let epochs = fit["settings"]["epochs"].as_u64().unwrap() as usize;
    assert_eq!(fit["curve"].as_array().unwrap().len(), epochs + 1, "{record}");
    assert!(fit["kl"].as_f64().unwrap() > 0.0, "Q moved from the learnt prior: {record}");
    assert_eq!(fit["candidates"].as_array().unwrap().len(), 5, "{record}");
    let m = fit["multiplier"].as_f64().unwrap();
    assert!([0.125, 0.25, 0.5, 1.0, 2.0].iter().any(|c| (m - c).abs() < 1e-12), "{m}");
    assert!(fit["n_prior"].as_u64().unwrap() > 0 && fit["n_validation"].as_u64().unwrap() > 0, "{record}");
    assert!(record["description"].as_str().unwrap().contains("pac-bayes"), "{record}");
    assert!(record["union_cost_nats"].as_f64().unwrap().abs() < 1e-12, "S_prior-only choices are free");
    // `variational` names the same family: the same tensors, bit for bit.
    let alias = dir.join("alias");
    let run = fit_linear_prior(&dataset, "variational", &alias);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let tensors = |d: &Path| std::fs::read(d.join("prior.safetensors")).unwrap();
    assert_eq!(tensors(&alias), tensors(&out), "the alias fits the same prior");
}
