//! What the command-line tests share: running the binary, a scratch folder per test, and the
//! checks every user error must pass.

// Each test file uses its own subset.
#![allow(dead_code)]

pub mod stages;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `pacbayes` with `args`.
pub fn pacbayes(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacbayes")).args(args).output().expect("the binary runs")
}

/// A fresh, empty folder for the test `name` of this test file.
pub fn scratch(name: &str) -> PathBuf {
    let suite = env!("CARGO_CRATE_NAME");
    let dir = std::env::temp_dir().join(format!("pacbayes-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A user error: exit status 2, nothing on stdout, one line on stderr that mentions `mentions`.
pub fn assert_user_error(out: &Output, mentions: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty(), "stdout on error: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(err.contains(mentions), "stderr {err:?} does not mention {mentions:?}");
}

/// The JSON in `path`.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("valid JSON")
}
