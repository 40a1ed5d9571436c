//! Times the two protocols on the MNIST FCN (784-600-600-600-10) with S_bound = half of the
//! training set (n = 30,000): the fast protocol with k = ⌈10⁶/n⌉ repetitions, and the classic
//! protocol per weight draw.
//!
//! ```sh
//! cargo run --release -p pacbayes-eval --example speed [-- REPETITIONS CLASSIC_DRAWS]
//! ```

use std::time::Instant;

use candle_core::Device;
use pacbayes_data::{Split, SplitConfig, mnist};
use pacbayes_eval::{CertifySettings, estimate_classic, estimate_fast};
use pacbayes_nn::{Architecture, Network, Noise};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pacbayes_nn::init_threads();
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let data = mnist()?;
    let split = Split::new(data.train, SplitConfig::new(0.5, 0)?)?;
    let bound = split.bound();
    let net = Network::from_seed(Architecture::Fcn, 0.03, 0, &Device::Cpu)?;
    let settings = CertifySettings::default().check()?;
    let k = args.first().copied().unwrap_or_else(|| settings.repetitions_for(bound.n() as u64));
    let start = Instant::now();
    let fast = estimate_fast(&net, bound, k, &settings, &mut Noise::new(1), &())?;
    let fast_seconds = start.elapsed().as_secs_f64();
    println!(
        "fast: n = {}, k = {k}, {} draws in {fast_seconds:.1} s ({:.2} µs per draw); 0-1 {:.4}, CE {:.4}",
        bound.n(),
        fast.mc_samples,
        1e6 * fast_seconds / fast.mc_samples as f64,
        fast.zero_one,
        fast.cross_entropy
    );
    let m = args.get(1).copied().unwrap_or(4);
    let start = Instant::now();
    let classic = estimate_classic(&net, bound, m, &settings, &mut Noise::new(2), &())?;
    let classic_seconds = start.elapsed().as_secs_f64();
    println!(
        "classic: m = {m} draws in {classic_seconds:.1} s ({:.2} s per weight draw on all {} examples); 0-1 {:.4}",
        classic_seconds / m as f64,
        bound.n(),
        classic.zero_one
    );
    Ok(())
}
