//! `pacbayes data info` run as a user would: on MNIST, binary MNIST, an IDX directory and a CSV file,
//! and on bad input (exit status 2, one line on stderr, nothing on stdout).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pacbayes(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacbayes")).args(args).output().expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pacbayes-data-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// The `n` column and per-class counts of the row starting with `part`.
fn row(text: &str, part: &str) -> Vec<usize> {
    let line = text.lines().find(|l| l.split_whitespace().next() == Some(part)).expect("row present");
    line.split_whitespace().skip(1).map(|x| x.parse().expect("count")).collect()
}

fn value<'a>(text: &'a str, key: &str) -> &'a str {
    let line = text.lines().find(|l| l.split_whitespace().next() == Some(key)).expect("key present");
    line.split_whitespace().nth(1).expect("value")
}

fn assert_user_error(out: &Output, mentions: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty(), "partial output: {}", stdout(out));
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(err.starts_with("error: ") && err.contains(mentions), "stderr: {err}");
}

fn write_idx_dir(dir: &Path, images: [usize; 2]) {
    let [n_train, n_test] = images;
    let labels = |n: usize| (0..n).map(|i| (i % 4) as u8).collect::<Vec<_>>();
    let files = [
        pacbayes_data::encode_idx(&[n_train, 4, 4], &vec![128; n_train * 16]),
        pacbayes_data::encode_idx(&[n_train], &labels(n_train)),
        pacbayes_data::encode_idx(&[n_test, 4, 4], &vec![7; n_test * 16]),
        pacbayes_data::encode_idx(&[n_test], &labels(n_test)),
    ];
    for (stem, bytes) in pacbayes_data::IDX_FILES.iter().zip(files) {
        std::fs::write(dir.join(stem), bytes).expect("write");
    }
}

fn write_csv(path: &Path) {
    let mut text = "height,weight,label\n".to_owned();
    for i in 0..60 {
        text.push_str(&format!("{},{},{}\n", 150 + i, 50.5 + i as f64, i % 3));
    }
    std::fs::write(path, text).expect("write");
}

#[test]
fn mnist_info_counts_every_training_example_once() {
    let out = pacbayes(&["data", "info", "--prior-fraction", "0.3", "--seed", "4"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert_eq!(value(&text, "dataset"), "mnist");
    let (prior, bound, test) = (row(&text, "prior"), row(&text, "bound"), row(&text, "test"));
    // The validation slice of `pacbayes prior`'s default (10% of S_prior) is shown by default.
    let validation = row(&text, "validation");
    assert_eq!(prior.len(), 11);
    assert_eq!(prior[0] + validation[0] + bound[0], 60_000);
    assert_eq!(test[0], 10_000);
    assert_eq!(prior[1..].iter().sum::<usize>(), prior[0]);
    assert!(((prior[0] + validation[0]) as f64 / 60_000.0 - 0.3).abs() < 1e-3);
    assert!((validation[0] as f64 / 18_000.0 - 0.1).abs() < 1e-3, "{validation:?}");
    assert_eq!(value(&text, "validation_fraction"), "0.1");
    assert_eq!(value(&text, "prior_indices_sha256").len(), 64);
    assert_eq!(value(&text, "content_sha256").len(), 64);
}

#[test]
fn binary_mnist_with_a_data_free_prior() {
    let out = pacbayes(&["data", "info", "--dataset", "binary-mnist", "--prior-fraction", "0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.lines().any(|l| l.split_whitespace().eq(["part", "n", "0-4", "5-9"])), "{text}");
    assert_eq!(row(&text, "prior"), [0, 0, 0]);
    assert_eq!(row(&text, "bound"), [60_000, 30_596, 29_404]);
}

#[test]
fn idx_directory_with_validation_slice() {
    let dir = scratch("idx");
    write_idx_dir(&dir, [80, 20]);
    let spec = format!("idx:{}", dir.display());
    let out = pacbayes(&["data", "info", "--dataset", &spec, "--validation-fraction", "0.25"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert_eq!(row(&text, "prior"), [28, 7, 7, 7, 7]);
    assert_eq!(row(&text, "validation"), [12, 3, 3, 3, 3]);
    assert_eq!(row(&text, "bound"), [40, 10, 10, 10, 10]);
    assert_eq!(row(&text, "test"), [20, 5, 5, 5, 5]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn csv_file_json_manifest_is_deterministic() {
    let dir = scratch("csv");
    let file = dir.join("people.csv");
    write_csv(&file);
    let spec = format!("csv:{}", file.display());
    let run = |seed: &str| {
        let out = pacbayes(&["data", "info", "--dataset", &spec, "--seed", seed, "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json manifest")
    };
    let (a, b, c) = (run("1"), run("1"), run("2"));
    assert_eq!(a, b);
    assert_ne!(a["bound_indices_sha256"], c["bound_indices_sha256"]);
    assert_eq!(a["dataset"], "csv:people.csv");
    assert_eq!(a["n_train"], 48);
    let count = |key: &str| a[key].as_u64().expect(key);
    assert_eq!(count("n_prior") + count("n_validation") + count("n_bound"), 48);
    let text = stdout(&pacbayes(&["data", "info", "--dataset", &spec]));
    assert_eq!(row(&text, "test"), [12, 4, 4, 4]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_inputs_exit_2_with_one_line() {
    let dir = scratch("bad");
    let missing = dir.join("absent.csv");
    assert_user_error(
        &pacbayes(&["data", "info", "--dataset", &format!("csv:{}", missing.display())]),
        "absent.csv: no such file",
    );
    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "a,label\n1,0\nx y,1\n").expect("write");
    assert_user_error(
        &pacbayes(&["data", "info", "--dataset", &format!("csv:{}", csv.display())]),
        "bad.csv: column \"a\" at line 3: \"x y\" is not a number",
    );
    assert_user_error(&pacbayes(&["data", "info", "--prior-fraction", "1"]), "prior_fraction = 1 is invalid");
    assert_user_error(
        &pacbayes(&["data", "info", "--prior-fraction", "-0.2"]),
        "expected a number in [0, 1)",
    );
    assert_user_error(&pacbayes(&["data", "info", "--dataset", "cifar"]), "expected mnist, binary-mnist");

    let idx = dir.join("idx");
    std::fs::create_dir_all(&idx).expect("mkdir");
    write_idx_dir(&idx, [40, 8]);
    let images = idx.join(pacbayes_data::IDX_FILES[0]);
    let bytes = std::fs::read(&images).expect("read");
    std::fs::write(&images, &bytes[..bytes.len() / 2]).expect("write");
    assert_user_error(
        &pacbayes(&["data", "info", "--dataset", &format!("idx:{}", idx.display())]),
        "train-images-idx3-ubyte: truncated at byte offset 16",
    );
    write_idx_dir(&idx, [6, 8]);
    assert_user_error(
        &pacbayes(&[
            "data",
            "info",
            "--dataset",
            &format!("idx:{}", idx.display()),
            "--prior-fraction",
            "0.5",
        ]),
        "the split leaves class 2 with no examples in the bound part",
    );
    std::fs::remove_dir_all(&dir).ok();
}
