//! Output folders that cannot be written: a path through a regular file, a read-only folder, and a
//! full disk (made with `ulimit -f`: tests run as root in CI, and root writes through a folder's
//! permissions). Each is reported on one line with exit status 2, and nothing that looks finished is
//! left behind.
#![cfg(unix)]

mod common;

use common::stages::{Stage, files, ok, prior_folder, run, stage};
use common::{assert_user_error, scratch};

use std::process::{Command, Output};

#[test]
fn an_output_path_through_a_file_is_one_line_and_leaves_nothing() {
    // Tests run as root in CI, for whom a folder's permissions do not forbid writing: a path through a
    // regular file is unwritable for every user.
    let dir = scratch("through-a-file");
    let blocker = dir.join("not-a-folder");
    std::fs::write(&blocker, "x").unwrap();
    let out = blocker.join("run");
    assert_user_error(&run(&stage(Stage::Prior, &out)), "not-a-folder");
    let mut args = vec!["run".to_owned(), "--runs-dir".to_owned(), blocker.to_str().unwrap().to_owned()];
    args.extend(["--name".to_owned(), "r".to_owned()]);
    assert_user_error(&run(&args), "not-a-folder");
    assert_eq!(files(&dir), ["not-a-folder"]);
}

#[test]
fn a_read_only_folder_is_reported_before_training() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("read-only");
    let run_dir = prior_folder(&dir);
    let before = files(&run_dir);
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root writes through permissions: the test then has nothing to check.
    if std::fs::write(run_dir.join("probe"), "x").is_ok() {
        std::fs::remove_file(run_dir.join("probe")).unwrap();
        std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("running as root: a read-only folder cannot be made; see the full-disk test");
        return;
    }
    let posterior = run(&stage(Stage::Posterior, &run_dir));
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_user_error(&posterior, &run_dir.display().to_string());
    assert!(String::from_utf8_lossy(&posterior.stderr).contains("cannot write"));
    assert_eq!(files(&run_dir), before);
}

/// A failure reported as the input's (exit status 2) on one line, the last on stderr (training may
/// have printed its progress before), that mentions `mentions`.
fn assert_error_line(out: &Output, mentions: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "stderr: {err}");
    assert_eq!(err.lines().last(), Some(errors[0]), "stderr: {err}");
    assert!(errors[0].contains(mentions), "{:?} does not mention {mentions:?}", errors[0]);
    // The system's message, not that of the temporary-file library (`... at path ".x.AbC123.tmp"`).
    assert!(!errors[0].contains("at path"), "a temporary file's name in {:?}", errors[0]);
}

/// Runs `args` with files limited to `blocks` blocks of 512 bytes (`ulimit -f`, which binds root as
/// well): a write past the limit fails as on a full disk (EFBIG, with SIGXFSZ ignored).
fn with_file_limit(args: &[String], blocks: u64) -> Output {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "trap '' XFSZ; ulimit -f {blocks} && exec '{}' {}",
        env!("CARGO_BIN_EXE_pacbayes"),
        quoted.join(" ")
    );
    Command::new("sh").args(["-c", &script]).output().expect("sh runs")
}

#[test]
fn a_full_disk_is_one_line_and_leaves_nothing_that_looks_finished() {
    let dir = scratch("full");
    // The prior: prior.json is longer than 2 blocks, so saving it fails; no folder appears.
    let out = dir.join("small").join("run");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let failed = with_file_limit(&stage(Stage::Prior, &out), 2);
    assert_error_line(&failed, &out.display().to_string());
    assert!(files(out.parent().unwrap()).is_empty(), "{:?}", files(out.parent().unwrap()));

    // The posterior: its checkpoint or its weights cannot be written; no posterior.json, no
    // posterior.safetensors, no temporary is left.
    let run_dir = prior_folder(&dir);
    let before = files(&run_dir);
    let failed = with_file_limit(&stage(Stage::Posterior, &run_dir), 2);
    assert_error_line(&failed, &run_dir.display().to_string());
    let after = files(&run_dir);
    assert!(!after.iter().any(|n| n.starts_with("posterior") || n.ends_with(".tmp")), "{after:?}");

    // The certificate of a finished posterior: certificate.json (7 kB) cannot be written; nothing is
    // left that says the run is certified, and the run certifies once there is room.
    ok(&run(&stage(Stage::Posterior, &run_dir)), "posterior");
    let failed = with_file_limit(&stage(Stage::Certificate, &run_dir), 4);
    assert_error_line(&failed, "certificate.json");
    let after = files(&run_dir);
    assert!(!after.iter().any(|n| n == "certificate.json" || n.ends_with(".tmp")), "{after:?}");
    ok(&run(&stage(Stage::Certificate, &run_dir)), "certify with room");
    assert!(before.iter().all(|f| files(&run_dir).contains(f)));
}
