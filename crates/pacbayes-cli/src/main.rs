//! `pacbayes`: PAC-Bayes risk certificates from the terminal (see the library docs of
//! `pacbayes_cli` for the exit statuses).

use std::process::ExitCode;

/// Training allocates and frees tensors of the same sizes at every step: mimalloc reuses them
/// instead of returning them to the kernel and faulting fresh zeroed pages back in.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    pacbayes_cli::main()
}
