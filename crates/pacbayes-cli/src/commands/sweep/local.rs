//! The local executor: the unfinished runs of a sweep, `jobs` at a time, each a child process of
//! the `pacbayes` binary (`pacbayes sweep run-task`) with its share of the cores.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pacbayes_eval::CertificateRecord;

use crate::commands::sweep::manifest::{Manifest, PlannedRun, SweepDir};
use pacbayes_pipeline::CERTIFICATE_FILE;

/// A child process running one run.
struct Running {
    child: Child,
    run: PlannedRun,
    start: Instant,
}

/// Runs every unfinished run of `manifest` in `dir`, `jobs` at a time; returns how many ran.
/// Ctrl-C stops the children and returns an error; a rerun continues with what is unfinished.
///
/// # Errors
/// A run that fails (its log is named), an interruption, or a child that cannot be started.
pub(crate) fn run_local(
    dir: &SweepDir,
    sweeps_dir: &Path,
    manifest: &Manifest,
    jobs: usize,
) -> Result<usize> {
    let pending: Vec<PlannedRun> = manifest.runs.iter().filter(|r| !dir.finished(&r.name)).cloned().collect();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = (cores / jobs.max(1)).max(1);
    let done_before = manifest.k - pending.len();
    let bar = ProgressBar::new(manifest.k as u64);
    bar.set_style(
        ProgressStyle::with_template("sweep {prefix} [{bar:30}] {pos}/{len} runs, {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(manifest.name.clone());
    bar.set_position(done_before as u64);
    let say = |text: String| if bar.is_hidden() { eprintln!("{text}") } else { bar.println(text) };
    say(format!(
        "sweep {}: {} runs, {done_before} finished before, {} to run, {jobs} at a time with {threads} threads each",
        manifest.name,
        manifest.k,
        pending.len()
    ));
    let stop = stop_flag();
    std::fs::create_dir_all(dir.logs()).with_context(|| format!("creating {}", dir.logs().display()))?;
    let mut queue = pending.into_iter();
    let mut running: Vec<Running> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut ran = 0;
    loop {
        if stop.load(Ordering::SeqCst) {
            for r in &mut running {
                let _ = r.child.kill();
                let _ = r.child.wait();
            }
            bar.abandon();
            bail!(
                "interrupted: {} of {} runs finished; run the same command again to continue",
                manifest.runs.iter().filter(|r| dir.finished(&r.name)).count(),
                manifest.k
            );
        }
        while running.len() < jobs.max(1) {
            let Some(run) = queue.next() else { break };
            let child = spawn(dir, sweeps_dir, &manifest.name, &run, threads)?;
            say(format!("{}: started ({})", run.name, values(manifest, &run)));
            running.push(Running { child, run, start: Instant::now() });
        }
        if running.is_empty() {
            break;
        }
        let mut still = Vec::with_capacity(running.len());
        for mut r in running {
            match r.child.try_wait().context("waiting for a run")? {
                None => still.push(r),
                Some(status) => {
                    let seconds = r.start.elapsed().as_secs_f64();
                    if status.success() {
                        ran += 1;
                        bar.inc(1);
                        say(format!("{}: done in {seconds:.0} s, {}", r.run.name, bound_of(dir, &r.run)));
                    } else {
                        let log = dir.logs().join(format!("{}.log", r.run.name));
                        say(format!("{}: failed ({status}); see {}", r.run.name, log.display()));
                        failed.push(r.run.name.clone());
                    }
                }
            }
        }
        running = still;
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
    if !failed.is_empty() {
        bail!(
            "{} of {} runs failed: {}; their logs are in {}",
            failed.len(),
            manifest.k,
            failed.join(", "),
            dir.logs().display()
        );
    }
    Ok(ran)
}

/// Starts `pacbayes sweep run-task` for `run` in a process group of its own (so that Ctrl-C reaches
/// the executor, which stops it), its output in `logs/NAME.log`.
fn spawn(dir: &SweepDir, sweeps_dir: &Path, name: &str, run: &PlannedRun, threads: usize) -> Result<Child> {
    use std::os::unix::process::CommandExt;
    let log_path = dir.logs().join(format!("{}.log", run.name));
    let log = File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let exe = std::env::current_exe().context("finding the pacbayes binary")?;
    Command::new(exe)
        .args(["sweep", "run-task", name, "--index", &run.index.to_string(), "--sweeps-dir"])
        .arg(sweeps_dir)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("opening a log")?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", run.name))
}

/// The grid values of `run`, as `key = value, ...`.
pub(crate) fn values(manifest: &Manifest, run: &PlannedRun) -> String {
    manifest.keys.iter().zip(&run.values).map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
}

/// `certificate 0.0232` for a finished run.
fn bound_of(dir: &SweepDir, run: &PlannedRun) -> String {
    CertificateRecord::read(&dir.run(&run.name).join(CERTIFICATE_FILE)).map_or_else(
        |e| format!("certificate unreadable: {e}"),
        |r| format!("certificate {}", r.zero_one.bound),
    )
}

/// A flag that Ctrl-C sets (if the handler cannot be installed, the sweep stops only when done).
fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&flag));
    flag
}
