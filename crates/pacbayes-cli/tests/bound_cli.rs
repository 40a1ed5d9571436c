//! `pacbayes bound`, run as a user runs it.

use std::process::{Command, Output};

fn pacbayes(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacbayes")).args(args).output().expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit status 2 and exactly one line on stderr that contains each of `needles`.
fn assert_usage_error(args: &[&str], needles: &[&str]) {
    let out = pacbayes(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: status {:?}, stderr {err}", out.status);
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: stderr is not one line: {err}");
    assert!(stdout(&out).is_empty(), "{args:?}: printed to stdout on error");
    for needle in needles {
        assert!(err.contains(needle), "{args:?}: {err:?} does not mention {needle:?}");
    }
}

#[test]
fn kl_inv_prints_one_number() {
    let out = pacbayes(&["bound", "kl-inv", "0.024", "0.01"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1);
    let p: f64 = text.trim().parse().expect("a decimal number");
    assert!(p > 0.024 && p < 0.1);
    assert_eq!(p.to_bits(), pacbayes_bounds::kl_inv_upper(0.024, 0.01).unwrap().to_bits());

    let low: f64 =
        stdout(&pacbayes(&["bound", "kl-inv", "--lower", "0.024", "0.01"])).trim().parse().unwrap();
    assert!(low < 0.024 && low > 0.0);
}

#[test]
fn certify_json_carries_the_required_fields() {
    let out = pacbayes(&[
        "bound",
        "certify",
        "--emp-risk",
        "0.024",
        "--kl",
        "450",
        "--n",
        "30000",
        "--delta",
        "0.025",
        "--mc-samples",
        "1000",
        "--delta-mc",
        "0.01",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    let num = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("no numeric {k} in {v}"));
    assert_eq!(v["n"].as_u64(), Some(30_000));
    assert!((num("kl") - 450.0).abs() < 1e-12 && (num("delta") - 0.025).abs() < 1e-15);
    // ê⁺ = kl⁻¹(0.024, ln(2/0.01)/1000) ≈ 0.04323 (tests/reference/mc.csv in pacbayes-bounds).
    assert!((num("emp_risk_upper") - 0.043_229_762_071_411_89).abs() < 1e-12);
    assert!(num("bound") > num("emp_risk_upper"));
}

#[test]
fn without_mc_the_upper_risk_is_the_risk() {
    let out = pacbayes(&[
        "bound",
        "certify",
        "--emp-risk",
        "0.1",
        "--kl",
        "5",
        "--n",
        "1000",
        "--delta",
        "0.05",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["emp_risk_upper"].as_f64(), Some(0.1));
    assert!(v["mc_samples"].is_null());
}

#[test]
fn every_kind_is_available_and_ordered_as_theory_says() {
    let bound = |kind: &str| -> f64 {
        let out = pacbayes(&[
            "bound",
            "certify",
            "--emp-risk",
            "0.05",
            "--kl",
            "100",
            "--n",
            "10000",
            "--delta",
            "0.025",
            "--kind",
            kind,
            "--json",
        ]);
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()["bound"].as_f64().unwrap()
    };
    let kl = bound("kl");
    for kind in ["mcallester", "quad", "lambda"] {
        assert!(bound(kind) >= kl, "{kind} is tighter than the kl bound it relaxes");
    }
    assert!(bound("catoni") > 0.05);
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let base = ["bound", "certify", "--emp-risk", "0.1", "--kl", "5", "--n", "1000", "--delta", "0.05"];
    let with = |flag: &str, value: &str| -> Vec<String> {
        let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        let at = args.iter().position(|a| a == flag).unwrap();
        args[at + 1] = value.to_owned();
        args
    };
    for (flag, value, expected) in [
        ("--delta", "0", "(0, 1)"),
        ("--delta", "1.5", "(0, 1)"),
        ("--delta", "nan", "NaN"),
        ("--kl", "-1", ">= 0"),
        ("--n", "0", ">= 1"),
        ("--emp-risk", "1.2", "[0, 1]"),
        ("--emp-risk", "NaN", "NaN"),
        ("--emp-risk", "abc", "number"),
    ] {
        let args = with(flag, value);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_usage_error(&args, &[flag, expected]);
    }
    assert_usage_error(
        &["bound", "certify", "--emp-risk", "0.1", "--n", "1000", "--delta", "0.05"],
        &["--kl"],
    );
    assert_usage_error(&["bound", "kl-inv", "1.5", "0.1"], &["[0, 1]"]);
    assert_usage_error(&["bound", "kl-inv", "0.5", "-0.1"], &[">= 0"]);
    assert_usage_error(
        &[
            "bound",
            "certify",
            "--emp-risk",
            "0.1",
            "--kl",
            "5",
            "--n",
            "10",
            "--delta",
            "0.5",
            "--mc-samples",
            "10",
            "--delta-mc",
            "0.6",
        ],
        &["delta"],
    );
    assert_usage_error(
        &[
            "bound",
            "certify",
            "--emp-risk",
            "0.1",
            "--kl",
            "5",
            "--n",
            "10",
            "--delta",
            "0.05",
            "--kind",
            "lambda",
            "--grid",
            "0.5,2.5",
        ],
        &["lambda_grid"],
    );
    assert_usage_error(
        &[
            "bound",
            "certify",
            "--emp-risk",
            "0.1",
            "--kl",
            "5",
            "--n",
            "10",
            "--delta",
            "0.05",
            "--delta-mc",
            "0.01",
        ],
        &["--mc-samples"],
    );
}

#[test]
fn heldout_prints_the_test_set_bound() {
    let out = pacbayes(&["bound", "heldout", "--errors", "543", "--n", "29997", "--delta", "0.025"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let p: f64 = stdout(&out).trim().parse().expect("one decimal number");
    // 0.019674716134551413 is the exact value rounded up (tests/reference/binomial.csv of
    // pacbayes-bounds, made by make_binomial.py with mpmath).
    assert!((0.019_674_716_134_551_413..0.019_674_716_2).contains(&p), "{p}");
    assert_usage_error(&["bound", "heldout", "--errors", "8", "--n", "7", "--delta", "0.05"], &["--errors"]);
    assert_usage_error(&["bound", "heldout", "--errors", "1", "--n", "0", "--delta", "0.05"], &["--n"]);
    assert_usage_error(&["bound", "heldout", "--errors", "1", "--n", "7", "--delta", "1.5"], &["--delta"]);
}

#[cfg(unix)]
#[test]
fn a_reader_that_goes_away_ends_the_process_without_a_panic() {
    // `pacbayes bound certify … | head -1`: the reader closes the pipe, here before the first write.
    let mut child = Command::new(env!("CARGO_BIN_EXE_pacbayes"))
        .args(["bound", "certify", "--emp-risk", "0.01", "--kl", "5", "--n", "30000", "--delta", "0.025"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("the binary ends");
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    // Killed by SIGPIPE, or done before the pipe closed; never the panic's status 101.
    if let Some(code) = out.status.code() {
        assert_eq!(code, 0, "{err}");
    } else {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(13), "SIGPIPE");
    }
}
