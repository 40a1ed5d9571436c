//! Times one training step (forward, KL, cross-entropy, backward, SGD update) of a stochastic
//! network on a batch of random inputs, per forward mode.
//!
//! `cargo run --release -p pacbayes-nn --example step_timing -- [fcn|cnn|...] [batch] [steps] [modes]`
//! (`modes`: a comma-separated subset of `mean,local,sample,update`, default all; `update` times
//! the parameter update and the KL alone).
//!
//! Besides wall-clock time, prints the CPU time of the calling thread per step (Linux only), which
//! is a steadier figure on a loaded machine. The calling thread is a worker of rayon's pool
//! and candle's elementwise operations run on it ([`pacbayes_nn::init_threads`]), as in the
//! `pacbayes` binary; with `OUTSIDE_POOL=1` neither is done.

use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use candle_core::{Device, Tensor};
use candle_nn::Optimizer;
use pacbayes_nn::{Architecture, Mode, Network, Noise};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if std::env::var_os("OUTSIDE_POOL").is_none() {
        pacbayes_nn::init_threads();
    }
    let arch: Architecture = args.get(1).map_or("fcn", String::as_str).parse()?;
    let batch: usize = args.get(2).map_or(Ok(250), |s| s.parse())?;
    let steps: usize = args.get(3).map_or(Ok(20), |s| s.parse())?;
    let dev = Device::Cpu;
    let net = Network::from_seed(arch, 0.03, 0, &dev)?;
    let mut noise = Noise::new(1);
    let x = Tensor::from_vec(noise.standard_normal(batch * arch.inputs()), (batch, arch.inputs()), &dev)?;
    let y = Tensor::from_vec((0..batch as u32).map(|i| i % arch.classes() as u32).collect(), batch, &dev)?;
    let mut sgd = candle_nn::SGD::new(net.vars(), 1e-3)?;
    let wanted = args.get(4).map_or("mean,local,sample,update", String::as_str).to_lowercase();
    let modes = [("mean", Mode::Mean), ("local", Mode::Local), ("sample", Mode::Sample)];
    for (_, mode) in modes.into_iter().filter(|(name, _)| wanted.split(',').any(|w| w == *name)) {
        let mut step = || -> Result<(), Box<dyn std::error::Error>> {
            let (logits, kl) = net.forward_and_kl(&x, mode, &mut noise)?;
            let loss = (candle_nn::loss::cross_entropy(&logits, &y)? + (kl / 30_000.0)?)?;
            sgd.step(&loss.backward()?)?;
            Ok(())
        };
        step()?;
        let (start, cpu_start) = (Instant::now(), thread_cpu_seconds());
        for _ in 0..steps {
            step()?;
        }
        let per_step = start.elapsed().as_secs_f64() / steps as f64;
        let cpu = match (cpu_start, thread_cpu_seconds()) {
            (Some(a), Some(b)) => format!(", thread CPU {:.1} ms", (b - a) * 1e3 / steps as f64),
            _ => String::new(),
        };
        println!(
            "{arch} {mode:?}: {:.1} ms per step of {batch} examples ({:.1} s per 60,000 examples){cpu}",
            per_step * 1e3,
            per_step * 60_000.0 / batch as f64
        );
    }
    if !wanted.split(',').any(|w| w == "update") {
        return Ok(());
    }
    // The momentum-SGD update of all μ and ρ alone: composed candle operations vs in place.
    let vars = net.vars();
    let grads: Vec<Tensor> =
        vars.iter().map(|v| v.as_tensor().affine(1e-6, 0.0)).collect::<Result<_, _>>()?;
    let mut velocity: Vec<Tensor> =
        vars.iter().map(|v| v.as_tensor().zeros_like()).collect::<Result<_, _>>()?;
    let start = Instant::now();
    for _ in 0..steps {
        for ((var, v), g) in vars.iter().zip(velocity.iter_mut()).zip(&grads) {
            *v = ((&*v * 0.9)? + g)?;
            var.set(&(var.as_tensor() - (&*v * 1e-3)?)?)?;
        }
    }
    let composed = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
    let (start, cpu_start) = (Instant::now(), thread_cpu_seconds());
    for _ in 0..steps {
        for ((var, v), g) in vars.iter().zip(&velocity).zip(&grads) {
            pacbayes_nn::sgd_momentum_step(var, v, g, 1e-3, 0.9)?;
        }
    }
    let in_place = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
    let cpu = match (cpu_start, thread_cpu_seconds()) {
        (Some(a), Some(b)) => format!(" (thread CPU {:.2} ms)", (b - a) * 1e3 / steps as f64),
        _ => String::new(),
    };
    println!("momentum SGD update: {composed:.2} ms with candle operations, {in_place:.2} ms in place{cpu}");
    // The KL-preconditioned update on f64 master copies, as the posterior solver's default.
    let sigmas: Vec<Tensor> = net.params().map(|p| p.prior_sigma().clone()).collect();
    let masters: Vec<Tensor> =
        vars.iter().map(|v| v.as_tensor().to_dtype(candle_core::DType::F64)).collect::<Result<_, _>>()?;
    let n = sigmas.len();
    let (start, cpu_start) = (Instant::now(), thread_cpu_seconds());
    for _ in 0..steps {
        for (i, ((var, v), g)) in vars.iter().zip(&velocity).zip(&grads).enumerate() {
            let group = if i < n { pacbayes_nn::KlGroup::Mean } else { pacbayes_nn::KlGroup::Rho };
            pacbayes_nn::kl_preconditioned_momentum(v, g, var.as_tensor(), &sigmas[i % n], group, 1.0, 0.9)?;
            pacbayes_nn::sgd_descend_master(var.as_tensor(), &masters[i], v, 1e-3)?;
        }
    }
    let preconditioned = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
    let cpu = match (cpu_start, thread_cpu_seconds()) {
        (Some(a), Some(b)) => format!(" (thread CPU {:.2} ms)", (b - a) * 1e3 / steps as f64),
        _ => String::new(),
    };
    println!("KL-preconditioned update on f64 master copies: {preconditioned:.2} ms{cpu}");
    let start = Instant::now();
    for _ in 0..steps {
        net.kl_value()?;
    }
    println!("kl_value: {:.1} ms", start.elapsed().as_secs_f64() * 1e3 / steps as f64);
    Ok(())
}

/// The CPU time the calling thread has run, from `/proc/thread-self/schedstat` (None elsewhere).
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos * 1e-9)
}
