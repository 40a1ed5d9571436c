//! `pacbayes certify`, `verify` and `report` run as a user would, on a small CSV table: a prior
//! made with the CLI, a posterior written with the library.

mod common;

use common::{assert_user_error, pacbayes, scratch};

use std::path::{Path, PathBuf};
use std::process::Output;

use candle_core::Device;
use pacbayes_nn::{Architecture, GaussianWeights, Network};

/// Two overlapping classes in 3 features.
fn write_csv(path: &Path) -> String {
    let mut text = "a,b,c,label\n".to_owned();
    for i in 0..400 {
        let class = i % 2;
        let shift = if class == 1 { 0.6 } else { -0.6 };
        let jitter = ((i * 37) % 17) as f64 / 17.0 - 0.5;
        let other = ((i * 11) % 13) as f64 / 13.0 - 0.5;
        text.push_str(&format!("{},{},{},{class}\n", shift + 2.0 * jitter, other, -shift * 0.5 + jitter));
    }
    std::fs::write(path, text).expect("write");
    format!("csv:{}", path.display())
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A prior made by the CLI, and a posterior next to it: the prior's means moved a little.
fn make_run(dir: &Path, dataset: &str, name: &str, kind: &str) -> PathBuf {
    let run = dir.join(name);
    let r = run.to_str().unwrap();
    ok(&pacbayes(&[
        "prior",
        "--kind",
        kind,
        "--dataset",
        dataset,
        "--architecture",
        "linear",
        "--sigma0",
        "0.1",
        "--prior-fraction",
        "0.3",
        "--epochs",
        "2",
        "--batch-size",
        "20",
        "--out",
        r,
    ]));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("prior.json")).unwrap()).unwrap();
    let arch: Architecture = record["architecture"].as_str().unwrap().parse().unwrap();
    let prior = GaussianWeights::load(arch, run.join("prior.safetensors"), None, &Device::Cpu).unwrap();
    let net = Network::from_prior(&prior).unwrap();
    for p in net.params() {
        let mu = (p.mu().as_tensor() + 0.05).unwrap();
        p.set_posterior(&mu, &p.rho().as_tensor().copy().unwrap()).unwrap();
    }
    net.save_posterior(run.join("posterior.safetensors")).unwrap();
    std::fs::write(run.join("posterior.json"), "{\"objective\": \"fquad\"}\n").unwrap();
    run
}

#[test]
fn certify_verify_and_report() {
    let dir = scratch("all");
    let dataset = write_csv(&dir.join("data.csv"));
    let learnt = make_run(&dir, &dataset, "learnt", "learnt");
    let free = make_run(&dir, &dataset, "free", "data-free");

    let printed =
        ok(&pacbayes(&["certify", "--run", learnt.to_str().unwrap(), "--repetitions", "50", "--seed", "4"]));
    assert!(printed.contains("risk <=") && printed.contains("fast, k = 50"), "{printed}");
    let cert_path = learnt.join("certificate.json");
    let cert: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cert_path).unwrap()).unwrap();
    let n = cert["n_bound"].as_u64().unwrap();
    assert_eq!(n, cert["split"]["n_bound"].as_u64().unwrap());
    assert_eq!(cert["protocol"]["mc_samples"].as_u64().unwrap(), 50 * n);
    assert_eq!(cert["objective"], "fquad");
    assert_eq!(cert["prior"]["kind"], "learnt");
    // Never written over.
    assert_user_error(&pacbayes(&["certify", "--run", learnt.to_str().unwrap()]), "exists already");

    // The held-out baseline and the disintegrated certificate are printed and recorded, and the
    // certified drawn network is saved and predicts.
    assert!(printed.contains("held-out:") && printed.contains("disintegrated:"), "{printed}");
    assert!(cert["heldout"]["bound"].as_f64().unwrap() > 0.0);
    assert_eq!(cert["heldout"]["n"].as_u64(), Some(n));
    assert!(cert["disintegrated"]["certificate"]["bound"].as_f64().unwrap() > 0.0);
    assert!(learnt.join("network.safetensors").is_file());
    let predicted = ok(&pacbayes(&[
        "predict",
        "--run",
        learnt.to_str().unwrap(),
        "--input",
        dir.join("data.csv").to_str().unwrap(),
    ]));
    assert_eq!(predicted.lines().count(), 400);
    assert!(predicted.lines().all(|l| l == "0" || l == "1"), "{predicted}");
    assert!(predicted.lines().any(|l| l == "0") && predicted.lines().any(|l| l == "1"));
    let bad_csv = dir.join("bad.csv");
    std::fs::write(&bad_csv, "a,b\n1,2\n").unwrap();
    assert_user_error(
        &pacbayes(&["predict", "--run", learnt.to_str().unwrap(), "--input", bad_csv.to_str().unwrap()]),
        "expected 3",
    );

    // The classic protocol, from a config file.
    let config = dir.join("certify.toml");
    std::fs::write(&config, "protocol = \"classic\"\ndraws = 40\nensemble_size = 5\nconfigurations = 6\n")
        .unwrap();
    let printed = ok(&pacbayes(&[
        "certify",
        "--run",
        free.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--kind",
        "gibbs",
    ]));
    assert!(printed.contains("classic, m = 40"), "{printed}");
    assert!(!printed.contains("disintegrated:"), "{printed}");
    assert!(!free.join("network.safetensors").exists());
    // The choice among 6 configurations is paid: ln 6 nats, beside the prior's own charges.
    let free_cert: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(free.join("certificate.json")).unwrap()).unwrap();
    let charges = free_cert["charges"].as_array().unwrap();
    let paid: Vec<f64> = charges
        .iter()
        .filter(|c| c["reason"].as_str().unwrap().contains("6 configurations"))
        .map(|c| c["cost_nats"].as_f64().unwrap())
        .collect();
    assert_eq!(paid.len(), 1, "{charges:?}");
    assert!((paid[0] - 6f64.ln()).abs() < 1e-12);
    // ... and so is δ′/6 in the Monte Carlo term.
    let delta_mc = free_cert["zero_one"]["delta_mc"].as_f64().unwrap();
    assert!((delta_mc - 0.01 / 6.0).abs() < 1e-18, "{delta_mc}");

    let verified = ok(&pacbayes(&["verify", cert_path.to_str().unwrap()]));
    assert!(verified.starts_with("ok: risk ≤ "), "{verified}");
    // The bound rounded up, and the code and machine that computed it.
    let shown =
        pacbayes_eval::show(cert["zero_one"]["bound"].as_f64().unwrap(), pacbayes_eval::Kind::UpperBound, 4);
    assert!(verified.starts_with(&format!("ok: risk ≤ {shown} ")), "{shown}: {verified}");
    assert_eq!(verified.lines().count(), 2, "{verified}");
    let made_by = verified.lines().nth(1).unwrap();
    let commit = cert["provenance"]["commit"].as_str().unwrap();
    assert!(
        made_by.starts_with("made by: commit ") && made_by.contains(commit) && made_by.contains("rustc"),
        "{made_by}"
    );

    for (field, change) in [
        (
            "zero_one",
            serde_json::json!({"zero_one": {"bound": cert["zero_one"]["bound"].as_f64().unwrap() * 0.9}}),
        ),
        ("n_bound", serde_json::json!({"n_bound": n + 1})),
        ("protocol.mc_samples", serde_json::json!({"protocol": {"mc_samples": 1_000_000_000u64}})),
    ] {
        let mut tampered = cert.clone();
        for (key, value) in change.as_object().unwrap() {
            match value {
                serde_json::Value::Object(inner) => {
                    for (k, v) in inner {
                        tampered[key][k] = v.clone();
                    }
                }
                v => tampered[key] = v.clone(),
            }
        }
        let path = dir.join(format!("tampered-{field}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&tampered).unwrap()).unwrap();
        assert_user_error(&pacbayes(&["verify", path.to_str().unwrap()]), field);
    }
    assert_user_error(&pacbayes(&["verify", dir.join("data.csv").to_str().unwrap()]), "data.csv");

    let tables = dir.join("tables");
    let printed = ok(&pacbayes(&[
        "report",
        learnt.to_str().unwrap(),
        free.to_str().unwrap(),
        "--out",
        tables.to_str().unwrap(),
    ]));
    assert!(printed.contains("learnt") && printed.contains("free"), "{printed}");
    for ext in ["csv", "parquet", "md", "tex"] {
        assert!(tables.join(format!("table.{ext}")).is_file(), "table.{ext}");
    }
    let csv = std::fs::read_to_string(tables.join("table.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.lines().next().unwrap().starts_with("run,dataset,architecture,prior,objective,prior_fraction")
    );
    assert!(csv.lines().next().unwrap().ends_with(",commit"), "{csv}");

    // The presentation flags: chosen columns, decimals, the best certificate in bold, every column.
    let styled = dir.join("styled");
    let printed = ok(&pacbayes(&[
        "report",
        learnt.to_str().unwrap(),
        free.to_str().unwrap(),
        "--out",
        styled.to_str().unwrap(),
        "--columns",
        "run,kl,bound",
        "--decimals",
        "3",
        "--bold-best",
        "--group-by",
        "dataset",
    ]));
    let md = std::fs::read_to_string(styled.join("table.md")).unwrap();
    assert!(md.starts_with("| run | KL | certificate |"), "{md}");
    assert_eq!(md.matches("**").count(), 2, "one bold certificate:\n{md}");
    let bounds: Vec<f64> = [&learnt, &free]
        .iter()
        .map(|run| common::json(&run.join("certificate.json"))["zero_one"]["bound"].as_f64().unwrap())
        .collect();
    let best = pacbayes_eval::show(bounds[0].min(bounds[1]), pacbayes_eval::Kind::UpperBound, 3);
    assert!(md.contains(&format!("**{best}**")), "{best}:\n{md}");
    assert!(printed.lines().next().unwrap().starts_with("run"), "{printed}");
    let wide =
        ok(&pacbayes(&["report", learnt.to_str().unwrap(), "--out", styled.to_str().unwrap(), "--wide"]));
    assert!(wide.contains("MC draws") && wide.contains("commit"), "{wide}");
    assert_user_error(
        &pacbayes(&[
            "report",
            learnt.to_str().unwrap(),
            "--out",
            styled.to_str().unwrap(),
            "--columns",
            "bund",
        ]),
        "bund",
    );
    assert_user_error(
        &pacbayes(&[
            "report",
            learnt.to_str().unwrap(),
            "--out",
            styled.to_str().unwrap(),
            "--decimals",
            "13",
        ]),
        "decimals",
    );

    // Certificates made by other code are refused in one table unless --allow-mixed.
    let mut other = common::json(&free.join("certificate.json"));
    other["provenance"]["commit"] = serde_json::json!("0".repeat(40));
    other["provenance"]["dirty"] = serde_json::json!(false);
    let older = dir.join("older.json");
    std::fs::write(&older, serde_json::to_string_pretty(&other).unwrap()).unwrap();
    let mixed =
        ["report", learnt.to_str().unwrap(), older.to_str().unwrap(), "--out", styled.to_str().unwrap()];
    assert_user_error(&pacbayes(&mixed), "--allow-mixed");
    let allowed = ok(&pacbayes(&[&mixed[..], &["--allow-mixed"][..]].concat()));
    assert!(allowed.contains("written"), "{allowed}");
}

#[test]
fn small_messages_say_what_is_wrong_once() {
    let dir = scratch("messages");
    // A missing folder: said once, not "No such file or directory" twice.
    let missing = dir.join("no-such-run");
    let out = pacbayes(&["report", missing.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert_user_error(&out, "no-such-run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.matches("no-such-run").count() == 1 && !err.contains("os error"), "{err}");
    // A folder without a certificate.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_user_error(&pacbayes(&["report", empty.to_str().unwrap()]), "no certificate.json");
    // An unreadable file elsewhere: the system's reason appears once.
    let out = pacbayes(&["verify", missing.to_str().unwrap()]);
    assert_user_error(&out, "no-such-run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    // A JSON file that is not a certificate (a prior's record) is said to be one.
    let prior = dir.join("prior.json");
    std::fs::write(&prior, r#"{"kind": "data-free", "settings": {"protocol": 3}}"#).unwrap();
    let out = pacbayes(&["verify", prior.to_str().unwrap()]);
    assert_user_error(&out, "is not a certificate");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("protocol"));
    std::fs::write(&prior, "[1, 2]").unwrap();
    assert_user_error(&pacbayes(&["verify", prior.to_str().unwrap()]), "is not a certificate");
}

#[test]
fn bad_requests_exit_2() {
    let dir = scratch("bad");
    let dataset = write_csv(&dir.join("data.csv"));
    let run = dir.join("run");
    let r = run.to_str().unwrap();
    ok(&pacbayes(&[
        "prior",
        "--kind",
        "data-free",
        "--dataset",
        &dataset,
        "--architecture",
        "linear",
        "--out",
        r,
    ]));
    assert_user_error(&pacbayes(&["certify", "--run", r]), "posterior.safetensors");
    assert_user_error(&pacbayes(&["certify", "--run", r, "--delta", "1.5"]), "(0, 1)");
    assert_user_error(&pacbayes(&["certify", "--run", r, "--protocol", "slow"]), "fast or classic");
    assert_user_error(&pacbayes(&["certify", "--run", r, "--kind", "gibs"]), "--kind");
    assert_user_error(&pacbayes(&["predict", "--run", r, "--input", r]), "certificate.json");
    let config = dir.join("bad.toml");
    std::fs::write(&config, "delta = 0.05\ndeltamc = 0.1\n").unwrap();
    assert_user_error(&pacbayes(&["certify", "--run", r, "--config", config.to_str().unwrap()]), "line 2");
    assert_user_error(&pacbayes(&["certify", "--run", dir.join("nothing").to_str().unwrap()]), "prior.json");
    assert_user_error(&pacbayes(&["report", r]), "certificate.json");
}

/// Copies the files of a run folder into a new folder `to`.
fn copy_run(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn write_record(run: &Path, record: &pacbayes_eval::CertificateRecord) {
    std::fs::write(run.join("certificate.json"), record.to_json()).unwrap();
}

/// Both certificates recomputed from the record's numbers after a tamper.
fn recompute(r: &mut pacbayes_eval::CertificateRecord) {
    use pacbayes_bounds::{BoundInputs, BoundKind, Certificate, Ledger, McTerm};
    let ledger: Ledger = r.charges.iter().cloned().collect();
    let redo = |c: &Certificate, kl: f64| {
        let inputs = BoundInputs::new(c.emp_risk, kl, c.n, c.delta).unwrap();
        let mc = McTerm::new(c.mc_samples.unwrap(), c.delta_mc.unwrap()).unwrap();
        Certificate::compute(&inputs, Some(mc), &BoundKind::Kl, &ledger).unwrap()
    };
    r.zero_one = redo(&r.zero_one, r.kl);
    r.cross_entropy = redo(&r.cross_entropy, r.kl);
    r.kl_over_n = r.kl / r.n_bound as f64;
    r.gap = r.zero_one.bound - r.test.stochastic;
}

#[test]
fn verify_run_binds_the_files_and_recounts() {
    let dir = scratch("verify-run");
    let dataset = write_csv(&dir.join("data.csv"));
    let good = make_run(&dir, &dataset, "good", "learnt");
    let g = good.to_str().unwrap();
    ok(&pacbayes(&["certify", "--run", g, "--repetitions", "20", "--seed", "3"]));
    let verified = ok(&pacbayes(&["verify", "--run", g, "--budget", "0.5", "--seed", "9"]));
    assert!(verified.starts_with("ok: ") && verified.contains("fresh draws"), "{verified}");
    let record = pacbayes_eval::CertificateRecord::read(&good.join("certificate.json")).unwrap();
    assert!(record.files.as_ref().unwrap().network_safetensors.is_some());

    let tampered = |name: &str| {
        let run = dir.join(name);
        copy_run(&good, &run);
        run
    };
    let verify_run = |run: &Path| pacbayes(&["verify", "--run", run.to_str().unwrap(), "--budget", "0.5"]);

    // Other weights swapped in: the posterior's means moved further from the prior's.
    let swapped = tampered("swapped");
    let arch: Architecture = record.architecture.parse().unwrap();
    let prior = GaussianWeights::load(arch, swapped.join("prior.safetensors"), None, &Device::Cpu).unwrap();
    let net = Network::load_posterior(&prior, swapped.join("posterior.safetensors")).unwrap();
    for p in net.params() {
        let mu = (p.mu().as_tensor() + 0.2).unwrap();
        p.set_posterior(&mu, &p.rho().as_tensor().copy().unwrap()).unwrap();
    }
    std::fs::remove_file(swapped.join("posterior.safetensors")).unwrap();
    net.save_posterior(swapped.join("posterior.safetensors")).unwrap();
    assert_user_error(&verify_run(&swapped), "files.posterior_safetensors");
    // ... and with the recorded hash updated to match, the recomputed KL exposes them.
    let mut r = record.clone();
    r.files.as_mut().unwrap().posterior_safetensors = {
        use sha2::Digest;
        let bytes = std::fs::read(swapped.join("posterior.safetensors")).unwrap();
        sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
    };
    write_record(&swapped, &r);
    assert_user_error(&verify_run(&swapped), "kl");
    let swapped_net = tampered("swapped-network");
    std::fs::write(swapped_net.join("network.safetensors"), b"not the certified network").unwrap();
    assert_user_error(&verify_run(&swapped_net), "files.network_safetensors");

    // ê lowered, every downstream number recomputed to match.
    let lowered = tampered("lowered-emp");
    let mut r = record.clone();
    r.zero_one.emp_risk *= 0.5;
    recompute(&mut r);
    r.verify().unwrap();
    write_record(&lowered, &r);
    assert_user_error(&verify_run(&lowered), "zero_one.emp_risk");

    // KL lowered, the bounds recomputed to match.
    let kl = tampered("lowered-kl");
    let mut r = record.clone();
    r.kl *= 0.5;
    recompute(&mut r);
    r.verify().unwrap();
    write_record(&kl, &r);
    assert_user_error(&verify_run(&kl), "kl");

    // D_α of the Rényi form lowered, its bound recomputed to match: consistent on paper, caught by
    // the divergence recomputed from the files.
    let renyi = tampered("lowered-renyi");
    let mut r = record.clone();
    let ledger: pacbayes_bounds::Ledger = r.charges.iter().cloned().collect();
    let d = r.disintegrated.as_mut().unwrap();
    let x = d.renyi.clone().unwrap();
    *d = d.clone().with_renyi(x.alpha, x.divergence * 0.5, r.n_bound, r.settings.delta, &ledger).unwrap();
    r.verify().unwrap();
    write_record(&renyi, &r);
    assert_user_error(&verify_run(&renyi), "disintegrated.renyi.divergence");

    // ln K or δ′/K missing: configurations = 4 recorded but not paid.
    let unpaid = tampered("unpaid");
    let mut r = record.clone();
    r.settings.configurations = 4;
    write_record(&unpaid, &r);
    assert_user_error(&verify_run(&unpaid), "charges");

    // A missing file, and a run folder that is not one.
    let missing = tampered("missing");
    std::fs::remove_file(missing.join("prior.safetensors")).unwrap();
    assert_user_error(&verify_run(&missing), "prior.safetensors");
    assert_user_error(&verify_run(&dir.join("nothing")), "certificate.json");
}
