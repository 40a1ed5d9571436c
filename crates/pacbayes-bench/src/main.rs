//! `pacbayes-bench --json OUT [--threads 2] [--quick]`: times the figures of the speed benchmark
//! on MNIST and writes them as JSON (see `benches/README.md`).

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::Parser;
use pacbayes_bench::{Budget, PosteriorPath, report};

/// The allocator of the `pacbayes` binary, so that the figures are those of the binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Times pacbayes on MNIST: prior and posterior epochs, certificate draws, a matrix product.
#[derive(Debug, Parser)]
#[command(name = "pacbayes-bench", version)]
struct Args {
    /// Where to write the results.
    #[arg(long)]
    json: PathBuf,
    /// Threads for candle and rayon (sets RAYON_NUM_THREADS).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    threads: u16,
    /// A few steps of each figure, as a smoke test.
    #[arg(long)]
    quick: bool,
    /// Time posterior epochs as the bare training step in a loop instead of through
    /// `pacbayes_posterior::train`.
    #[arg(long)]
    inline_posterior: bool,
}

const THREADS_VAR: &str = "RAYON_NUM_THREADS";

fn main() -> ExitCode {
    let args = Args::parse();
    let threads = args.threads.to_string();
    // candle and rayon read the thread count from the environment: run again with it set.
    if std::env::var(THREADS_VAR).ok().as_deref() != Some(threads.as_str()) {
        let status = std::env::current_exe().and_then(|exe| {
            Command::new(exe).args(std::env::args_os().skip(1)).env(THREADS_VAR, &threads).status()
        });
        return match status {
            Ok(s) if s.success() => ExitCode::SUCCESS,
            Ok(s) => ExitCode::from(u8::try_from(s.code().unwrap_or(1)).unwrap_or(1)),
            Err(e) => {
                eprintln!("pacbayes-bench: cannot run again with {THREADS_VAR}={threads}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    pacbayes_nn::init_threads();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pacbayes-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> pacbayes_bench::Result<()> {
    let data = pacbayes_data::mnist()?;
    let budget = if args.quick { Budget::quick() } else { Budget::full() };
    let mut progress = |name: &str, seconds: f64| println!("{name}: {seconds:.3} s");
    let posterior = if args.inline_posterior { PosteriorPath::Inline } else { PosteriorPath::Train };
    let threads = usize::from(args.threads);
    let report = report::run(&data, &budget, posterior, threads, args.quick, &mut progress)?;
    report.write(&args.json)
}
