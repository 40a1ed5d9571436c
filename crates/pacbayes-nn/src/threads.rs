//! The calling thread as one of the workers of rayon's global pool, and candle's elementwise
//! operations on that thread.

/// candle's own pool for elementwise operations, besides rayon's.
const CANDLE_THREADS_VAR: &str = "CANDLE_NUM_THREADS";

/// The thread count of rayon's global pool and of candle's matrix products.
const RAYON_THREADS_VAR: &str = "RAYON_NUM_THREADS";

/// Prepares the threads of a process that trains or certifies networks, and returns whether it
/// built rayon's global pool (`false`, with nothing changed, when the pool exists already). Call it
/// at the start of `main`, before anything runs in parallel.
///
/// - rayon's global pool gets as many threads as candle's matrix products use
///   ([`candle_core::utils::get_num_threads`]: `RAYON_NUM_THREADS`, else the number of physical
///   cores), the calling thread being one of them. candle runs each matrix product on rayon's pool,
///   as do the elementwise passes of this crate. From a thread outside the pool, every such call
///   hands its work to the pool's threads and sleeps until they are done, and they go back to
///   sleep when it ends: a training step of the MNIST FCN makes a few dozen of these calls. From a
///   thread of the pool, the caller takes a share of the work itself and finds the other workers
///   still awake for the next call.
/// - Unless `CANDLE_NUM_THREADS` is set, it is set to 1, when the process has no other thread yet
///   (read from `/proc/self/task`; elsewhere nothing is set). candle's elementwise operations
///   otherwise run on a pool of their own, whose threads are pinned to cores and spin between
///   operations, taking those cores from rayon's threads in the middle of a matrix product.
/// - Unless `RAYON_NUM_THREADS` is set, it is set, under the same condition, to the count candle
///   computes without it (the physical cores). candle computes that count again for every matrix
///   product, reading and parsing `/proc/cpuinfo` each time (about 1% of a posterior epoch of the
///   MNIST FCN, on the main thread); with the variable set, it reads the variable. Child processes
///   inherit it, as they would compute the same count.
///
/// Together they take 17–32% off a training step of the MNIST FCN on 2 cores
/// (`examples/step_timing.rs`, which can run without them).
///
/// ```
/// pacbayes_nn::init_threads();
/// assert!(!pacbayes_nn::init_threads()); // the second call finds the pool built
/// ```
pub fn init_threads() -> bool {
    let candle_unset = std::env::var_os(CANDLE_THREADS_VAR).is_none();
    let rayon_unset = std::env::var_os(RAYON_THREADS_VAR).is_none();
    if (candle_unset || rayon_unset) && only_thread() {
        let threads = candle_core::utils::get_num_threads().to_string();
        // SAFETY: the process has a single thread (checked just above, and this thread starts
        // none in between), so no other thread reads or writes the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            if candle_unset {
                std::env::set_var(CANDLE_THREADS_VAR, "1");
            }
            if rayon_unset {
                std::env::set_var(RAYON_THREADS_VAR, threads);
            }
        }
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(candle_core::utils::get_num_threads())
        .use_current_thread()
        .build_global()
        .is_ok()
}

/// Whether the calling thread is the process's only one (false when that cannot be read).
fn only_thread() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1)
}
