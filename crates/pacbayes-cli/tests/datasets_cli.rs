//! `pacbayes data info` on Fashion-MNIST (its class names) and on CIFAR-10 folders written here in
//! the real binary format, with every bad file an exit status 2 and one line naming it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pacbayes_data::{CIFAR10_RECORD_LEN, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, write_cifar10_batch};

fn pacbayes(args: &[&str], env: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pacbayes"));
    cmd.args(args).env_remove(pacbayes_data::CIFAR10_DIR_VAR);
    if let Some(dir) = env {
        cmd.env(pacbayes_data::CIFAR10_DIR_VAR, dir);
    }
    cmd.output().expect("the binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pacbayes-datasets-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn assert_user_error(out: &Output, mentions: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty(), "partial output: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    for m in mentions {
        assert!(err.starts_with("error: ") && err.contains(m), "{m:?} not in stderr: {err}");
    }
}

/// 200 records per file, labels `i % 10`, pixels `(i + j) mod 256`.
fn write_cifar(dir: &Path) {
    for name in CIFAR10_TRAIN_FILES.iter().chain([&CIFAR10_TEST_FILE]) {
        let labels: Vec<u8> = (0..200).map(|i| (i % 10) as u8).collect();
        let pixels: Vec<u8> = (0..200 * 3072).map(|k| ((k / 3072 + k % 3072) % 256) as u8).collect();
        write_cifar10_batch(&dir.join(name), &labels, &pixels).expect("write");
    }
}

#[test]
fn fashion_mnist_info_names_its_classes() {
    let out = pacbayes(&["data", "info", "--dataset", "fashion-mnist"], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.lines().any(|l| l.split_whitespace().eq(["dataset", "fashion-mnist"])), "{text}");
    let header = text.lines().find(|l| l.split_whitespace().next() == Some("part")).expect("header");
    assert!(header.contains("T-shirt/top") && header.contains("Ankle boot"), "{header}");
    let test = text.lines().find(|l| l.split_whitespace().next() == Some("test")).expect("test row");
    assert_eq!(test.split_whitespace().nth(1), Some("10000"));
}

#[test]
fn cifar10_folders_load_by_flag_or_environment() {
    let dir = scratch("good");
    write_cifar(&dir);
    let spec = format!("cifar10:{}", dir.display());
    let out = pacbayes(&["data", "info", "--dataset", &spec], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("airplane") && text.contains("truck"), "{text}");
    let total: usize = ["prior", "validation", "bound"]
        .iter()
        .map(|p| {
            let row = text.lines().find(|l| l.split_whitespace().next() == Some(*p)).expect("row");
            row.split_whitespace().nth(1).expect("n")
        })
        .map(|n| n.parse::<usize>().expect("count"))
        .sum();
    assert_eq!(total, 1000);

    let out = pacbayes(&["data", "info", "--dataset", "cifar10"], Some(&dir));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = pacbayes(&["data", "info", "--dataset", "cifar10"], None);
    assert_user_error(&out, &["PACBAYES_CIFAR10_DIR", "cifar10:DIR"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_cifar10_files_exit_2_naming_the_file() {
    let dir = scratch("bad");
    let info =
        |dir: &Path| pacbayes(&["data", "info", "--dataset", &format!("cifar10:{}", dir.display())], None);

    // An empty folder.
    assert_user_error(&info(&dir), &["none of the CIFAR-10 files", &dir.display().to_string()]);

    // A missing batch file.
    write_cifar(&dir);
    std::fs::remove_file(dir.join("data_batch_5.bin")).expect("remove");
    assert_user_error(&info(&dir), &["data_batch_5.bin: no such file"]);

    // A size that is not a multiple of 3,073: the record cut short is named by its offset.
    write_cifar(&dir);
    let file = dir.join("data_batch_2.bin");
    let mut bytes = std::fs::read(&file).expect("read");
    bytes.push(0);
    std::fs::write(&file, &bytes).expect("write");
    let offset = 200 * CIFAR10_RECORD_LEN;
    assert_user_error(
        &info(&dir),
        &["data_batch_2.bin", "3073-byte records", &format!("byte offset {offset}")],
    );

    // A label above 9.
    write_cifar(&dir);
    let file = dir.join("test_batch.bin");
    let mut bytes = std::fs::read(&file).expect("read");
    bytes[3 * CIFAR10_RECORD_LEN] = 200;
    std::fs::write(&file, &bytes).expect("write");
    let offset = 3 * CIFAR10_RECORD_LEN;
    assert_user_error(
        &info(&dir),
        &["test_batch.bin", "label 200", &format!("record 3 (byte offset {offset})")],
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A whole run on a CIFAR-10 folder (the linear model, for speed): the prior's ERM sees crops and
/// flips by default, and the later stages rebuild the same per-channel normalization.
#[test]
fn a_run_on_cifar10_files_certifies() {
    let dir = scratch("run");
    let data = dir.join("cifar");
    std::fs::create_dir_all(&data).expect("mkdir");
    write_cifar(&data);
    let config = dir.join("run.toml");
    let text = format!(
        "name = \"tiny\"\n[prior]\ndataset = \"cifar10:{}\"\narchitecture = \"linear\"\n\
         [prior.training]\nepochs = 1\nbatch_size = 50\n[posterior]\nepochs = 1\n[certificate]\nrepetitions = 1\n",
        data.display()
    );
    std::fs::write(&config, text).expect("write");
    let runs = dir.join("runs");
    let out = pacbayes(
        &["run", "--config", &config.display().to_string(), "--runs-dir", &runs.display().to_string()],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let prior = std::fs::read_to_string(runs.join("tiny/prior.json")).expect("prior.json");
    assert!(prior.contains("\"shift\": 4") && prior.contains("\"flip\": true"), "{prior}");
    assert!(runs.join("tiny/certificate.json").exists());
    std::fs::remove_dir_all(&dir).ok();
}
