//! Captures the git commit, whether the tree was dirty, and the rustc version at build time.
//!
//! Outside a git checkout (or without git) the commit is `unknown`. Cargo reruns this script when
//! HEAD moves (the HEAD file, the branch it points to, packed refs), when the index changes, and when
//! a file of the workspace's code changes, so that the dirty flag follows edits that are not staged.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=build.rs");
    let commit = git(&manifest, &["rev-parse", "HEAD"]).filter(|c| !c.is_empty());
    let dirty =
        commit.as_ref().and_then(|_| git(&manifest, &["status", "--porcelain"])).map(|s| !s.is_empty());
    if let (Some(git_dir), Some(common), Some(top)) = (
        git(&manifest, &["rev-parse", "--absolute-git-dir"]),
        git(&manifest, &["rev-parse", "--git-common-dir"]),
        git(&manifest, &["rev-parse", "--show-toplevel"]),
    ) {
        let git_dir = PathBuf::from(git_dir);
        // A worktree's HEAD and index live in its own git folder; its branches in the common one.
        let common =
            if Path::new(&common).is_absolute() { PathBuf::from(common) } else { manifest.join(common) };
        for file in [git_dir.join("HEAD"), git_dir.join("index"), common.join("packed-refs")] {
            println!("cargo:rerun-if-changed={}", file.display());
        }
        if let Some(branch) = std::fs::read_to_string(git_dir.join("HEAD"))
            .ok()
            .and_then(|head| head.strip_prefix("ref: ").map(|r| r.trim().to_owned()))
        {
            println!("cargo:rerun-if-changed={}", common.join(branch).display());
        }
        let top = PathBuf::from(top);
        for code in ["crates", "experiments/src", "experiments/examples", "Cargo.toml", "Cargo.lock"] {
            if top.join(code).exists() {
                println!("cargo:rerun-if-changed={}", top.join(code).display());
            }
        }
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(|| "unknown".to_owned(), |o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    println!("cargo:rustc-env=PACBAYES_GIT_COMMIT={}", commit.unwrap_or_else(|| "unknown".into()));
    let dirty = match dirty {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    };
    println!("cargo:rustc-env=PACBAYES_GIT_DIRTY={dirty}");
    println!("cargo:rustc-env=PACBAYES_RUSTC_VERSION={rustc_version}");
}
