//! Runs that survive faults: each stage of a small run on the workspace's table is killed (SIGKILL)
//! at seeded random instants, 20 times, then run again (the posterior with `--resume`), and the
//! certificate at the end must be the uninterrupted run's, byte for byte; the test counts the kills
//! that found the process running and those that landed in a checkpoint save (`--nocapture` prints
//! them; `PACBAYES_FAULT_SEED=N` draws other instants). The instants random kills rarely hit are made
//! by hand. Folders that cannot be written are in `unwritable.rs`.
#![cfg(unix)]

mod common;

use common::stages::{Stage, ok, run, stage};
use common::{assert_user_error, scratch};

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills per stage.
const KILLS: usize = 20;

/// Starts `args`, sends SIGKILL after `delay` (and then, with `appears`, as soon as that path
/// exists), and says whether the process was still running (killed by the signal) rather than
/// finished (which must then have succeeded).
fn kill_after(args: &[String], delay: Duration, appears: Option<&Path>) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pacbayes"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    std::thread::sleep(delay);
    if let Some(path) = appears {
        while !path.exists() && child.try_wait().expect("the child is polled").is_none() {
            std::hint::spin_loop();
        }
    }
    // On Unix `kill` sends SIGKILL; a process that has exited already is only reaped.
    let _ = child.kill();
    let status = child.wait().expect("the child is reaped");
    match status.signal() {
        Some(9) => true,
        _ => {
            assert!(status.success(), "{args:?} failed before the kill: {status:?}");
            false
        }
    }
}

/// Seeded delays: splitmix64, uniform in [0, `max`).
struct Delays(u64);

impl Delays {
    fn next(&mut self, max: Duration) -> Duration {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        max.mul_f64((z >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// The names of the temporaries a kill can leave in `run` (hidden `.NAME.XXXXXX.tmp` files, and the
/// checkpoint's `checkpoint.tmp` and `checkpoint.old` folders).
fn leftovers(run: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(run) else { return Vec::new() };
    entries
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.ends_with(".old"))
        .collect()
}

/// Finishes the posterior of `run` after a kill, as a user would: `--resume`, or, when the kill came
/// before the first checkpoint, the command again.
fn finish_posterior(run_dir: &Path) {
    let mut args = stage(Stage::Posterior, run_dir);
    args.push("--resume".into());
    let resumed = run(&args);
    if resumed.status.success() {
        return;
    }
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert!(err.contains("nothing to resume from"), "--resume failed: {err}");
    ok(&run(&stage(Stage::Posterior, run_dir)), "posterior after a kill before its first checkpoint");
}

#[test]
fn killed_stages_rerun_to_the_uninterrupted_certificate() {
    let started = Instant::now();
    let dir = scratch("kills");
    // The uninterrupted run, and how long each stage takes.
    let reference = dir.join("reference").join("run");
    std::fs::create_dir_all(reference.parent().unwrap()).unwrap();
    let mut took = Vec::new();
    for which in [Stage::Prior, Stage::Posterior, Stage::Certificate] {
        let t = Instant::now();
        ok(&run(&stage(which, &reference)), &format!("{which:?}"));
        took.push(t.elapsed());
    }
    let certificate = std::fs::read(reference.join("certificate.json")).unwrap();
    eprintln!("uninterrupted stages: {took:?}");

    // Another seed: PACBAYES_FAULT_SEED=N.
    let seed = std::env::var("PACBAYES_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(14);
    let mut delays = Delays(seed);
    let mut interrupted = [0usize; 3];
    let mut in_save = 0;
    // A kill lands at a uniform instant of a stage's measured duration; one measurement on a busy
    // machine can be several times too long, so a kill that finds the process finished shortens it.
    let mut durations = took.clone();
    let mut kill = |which: Stage, args: &[String], appears: Option<&Path>| {
        let k = which as usize;
        let hit = kill_after(args, delays.next(durations[k]), appears);
        if hit {
            interrupted[k] += 1;
        } else {
            durations[k] = durations[k].mul_f64(0.7);
        }
    };
    for i in 0..KILLS {
        // The same folder name as the reference's: the run's name is part of its certificate.
        let run_dir = dir.join(format!("k{i}")).join("run");
        std::fs::create_dir_all(run_dir.parent().unwrap()).unwrap();

        // (a) The prior: the folder appears whole or not at all; a kill after it appeared leaves the
        // finished prior, which the command then refuses to write over.
        let prior = stage(Stage::Prior, &run_dir);
        kill(Stage::Prior, &prior, None);
        if run_dir.exists() {
            assert_user_error(&run(&prior), "exists already");
        } else {
            ok(&run(&prior), "prior after a kill");
        }
        for f in ["prior.json", "prior.safetensors", "split.json", "timings.json"] {
            assert!(run_dir.join(f).is_file(), "k{i}: {f} missing");
        }

        // (b) The posterior, then `--resume` (the command again if no checkpoint was written). One
        // kill in four waits, after its delay, for the next checkpoint save to begin.
        let posterior = stage(Stage::Posterior, &run_dir);
        let saving = run_dir.join("checkpoint.tmp");
        kill(Stage::Posterior, &posterior, (i % 4 == 3).then_some(saving.as_path()));
        let left = leftovers(&run_dir);
        if left.iter().any(|n| n.starts_with("checkpoint.")) {
            in_save += 1;
        }
        // Nothing unfinished may pass for finished: without posterior.json, certify refuses.
        if !run_dir.join("posterior.json").exists() && run_dir.join("posterior.safetensors").exists() {
            assert_user_error(&run(&stage(Stage::Certificate, &run_dir)), "--resume");
        }
        finish_posterior(&run_dir);

        // (c) The certificate: written last, so that a folder without one is certified again.
        let certify = stage(Stage::Certificate, &run_dir);
        kill(Stage::Certificate, &certify, None);
        if run_dir.join("certificate.json").exists() {
            assert_user_error(&run(&certify), "exists already");
        } else {
            ok(&run(&certify), "certify after a kill");
        }
        // What the kills left is gone once the stages are finished.
        assert_eq!(leftovers(&run_dir), Vec::<String>::new(), "k{i}");
        let found = std::fs::read(run_dir.join("certificate.json")).unwrap();
        assert!(found == certificate, "k{i}: the certificate differs from the uninterrupted run's");
        // Every other file the reference has is the same too (the clock lives in timings.json, the
        // working state in checkpoint/).
        for entry in std::fs::read_dir(&reference).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name == "timings.json" || name == "checkpoint" {
                continue;
            }
            let same = std::fs::read(run_dir.join(&name)).ok() == std::fs::read(reference.join(&name)).ok();
            assert!(same, "k{i}: {name} differs from the uninterrupted run's");
        }
        std::fs::remove_dir_all(run_dir.parent().unwrap()).unwrap();
    }
    eprintln!(
        "seed {seed}: kills that interrupted a process, of {KILLS} per stage: prior {}, posterior {} ({in_save} \
         during a checkpoint save), certificate {}; {:.1} s in all",
        interrupted[0],
        interrupted[1],
        interrupted[2],
        started.elapsed().as_secs_f64()
    );
    // A kill after the process ended tests nothing: most must land while it runs.
    for (n, which) in interrupted.iter().zip(["prior", "posterior", "certificate"]) {
        assert!(*n >= KILLS / 2, "only {n} of {KILLS} kills interrupted the {which}");
    }
    assert!(in_save >= 1, "no kill landed during a checkpoint save");
}

/// The instants a random kill rarely hits, made by hand: a checkpoint save cut between its two
/// renames (the previous checkpoint aside as `checkpoint.old`, the new one whole in `checkpoint.tmp`
/// or half-written), and a posterior save cut after the weights (no `posterior.json`).
#[test]
fn a_save_cut_between_its_renames_resumes_to_the_same_certificate() {
    let dir = scratch("renames");
    let uninterrupted = dir.join("a").join("run");
    let cut = dir.join("b").join("run");
    for run_dir in [&uninterrupted, &cut] {
        std::fs::create_dir_all(run_dir.parent().unwrap()).unwrap();
        ok(&run(&stage(Stage::Prior, run_dir)), "prior");
    }
    ok(&run(&stage(Stage::Posterior, &uninterrupted)), "posterior");
    ok(&run(&stage(Stage::Certificate, &uninterrupted)), "certify");

    // Half the epochs, then the state a kill leaves between `checkpoint` → `checkpoint.old` and
    // `checkpoint.tmp` → `checkpoint`, after the weights were saved and posterior.json removed.
    let mut half = stage(Stage::Posterior, &cut);
    let epochs = half.iter().position(|a| a == "--epochs").unwrap() + 1;
    half[epochs] = "6".into();
    ok(&run(&half), "posterior, 6 epochs");
    std::fs::rename(cut.join("checkpoint"), cut.join("checkpoint.old")).unwrap();
    std::fs::create_dir_all(cut.join("checkpoint.tmp")).unwrap();
    std::fs::write(cut.join("checkpoint.tmp").join("state.json"), "{\"steps_do").unwrap();
    std::fs::remove_file(cut.join("posterior.json")).unwrap();
    // Weights with no record are not certified ...
    assert_user_error(&run(&stage(Stage::Certificate, &cut)), "--resume");
    // ... and --resume takes the checkpoint back and finishes as if nothing had happened.
    let mut resume = stage(Stage::Posterior, &cut);
    resume.push("--resume".into());
    ok(&run(&resume), "posterior --resume");
    assert_eq!(leftovers(&cut), Vec::<String>::new());
    ok(&run(&stage(Stage::Certificate, &cut)), "certify");
    let (a, b) = (uninterrupted.join("certificate.json"), cut.join("certificate.json"));
    assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap(), "the certificates differ");
}
