//! Times the elementwise passes over the parameters of a network with the instruction set chosen
//! at run time (AVX2 with FMA where the CPU has them) against the baseline instruction set, side
//! by side in one process ([`pacbayes_nn::force_baseline_simd`]), and one training step both ways.
//!
//! `cargo run --release -p pacbayes-nn --example simd_dispatch -- [fcn|cnn|...] [rounds] [reps]`
//!
//! Each round times every pass `reps` times with each instruction set, the two alternating (which
//! goes first changes from round to round), and takes the ratio dispatched / baseline of the two
//! totals; printed are the median ratio over the rounds with its smallest and largest, and the
//! median time per pass of each.

use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use candle_core::{DType, Device, Tensor};
use pacbayes_nn::{AdamStep, Architecture, KlGroup, Mode, Network, Noise, Simd};

type Pass<'a> = Box<dyn FnMut() -> Result<(), Box<dyn std::error::Error>> + 'a>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pacbayes_nn::init_threads();
    let args: Vec<String> = std::env::args().collect();
    let arch: Architecture = args.get(1).map_or("fcn", String::as_str).parse()?;
    let rounds: usize = args.get(2).map_or(Ok(5), |s| s.parse())?;
    let reps: usize = args.get(3).map_or(Ok(20), |s| s.parse())?;
    let dev = Device::Cpu;
    let net = Network::from_seed(arch, 0.03, 0, &dev)?;
    // A posterior a little away from its prior, as during training.
    let mut noise = Noise::new(3);
    for p in net.params() {
        let n = p.mu().elem_count();
        let shift = |t: &Tensor, s: f32, noise: &mut Noise| -> candle_core::Result<Tensor> {
            t + Tensor::from_vec(noise.standard_normal(n), t.shape(), &dev)?.affine(f64::from(s), 0.0)?
        };
        p.set_posterior(
            &shift(p.mu().as_tensor(), 0.01, &mut noise)?,
            &shift(p.rho().as_tensor(), 0.1, &mut noise)?,
        )?;
    }
    let detected = pacbayes_nn::simd();
    println!(
        "{arch}: {} parameters (μ and ρ each), {rounds} rounds of {reps} passes each way; dispatched = {detected:?}",
        net.num_params()
    );
    if detected == Simd::Baseline {
        println!("(this CPU runs the baseline either way: the ratios measure noise)");
    }

    let params: Vec<_> = net.params().collect();
    let rhos: Vec<Tensor> = params.iter().map(|p| p.rho().as_tensor().clone()).collect();
    let sigmas: Vec<Tensor> = params.iter().map(|p| p.sigma()).collect::<Result<_, _>>()?;
    let grads: Vec<Tensor> = rhos.iter().map(|r| r.affine(1e-3, 0.0)).collect::<Result<_, _>>()?;
    let zeros = || -> candle_core::Result<Vec<Tensor>> { rhos.iter().map(Tensor::zeros_like).collect() };
    let (velocity, moment1, moment2) = (zeros()?, zeros()?, zeros()?);
    let masters: Vec<Tensor> = rhos.iter().map(|r| r.to_dtype(DType::F64)).collect::<Result<_, _>>()?;
    let scratch: Vec<candle_core::Var> =
        rhos.iter().map(candle_core::Var::from_tensor).collect::<Result<_, _>>()?;
    let batch = 250;
    let x = Tensor::from_vec(noise.standard_normal(batch * arch.inputs()), (batch, arch.inputs()), &dev)?;
    let y = Tensor::from_vec((0..batch as u32).map(|i| i % arch.classes() as u32).collect(), batch, &dev)?;

    let mut passes: Vec<(&str, Pass<'_>)> = vec![
        (
            "σ, dσ/dρ and KL(Q‖P) (Scales::of, KlRho forward)",
            Box::new(|| {
                for p in &params {
                    p.kl()?;
                }
                Ok(())
            }),
        ),
        (
            "the same and its backward pass (KlRho backward)",
            Box::new(|| {
                for p in &params {
                    p.kl()?.backward()?;
                }
                Ok(())
            }),
        ),
        (
            "softplus(ρ) and its gradient (softplus_tensor)",
            Box::new(|| {
                for v in &scratch {
                    pacbayes_nn::softplus_tensor(v.as_tensor())?.sum_all()?.backward()?;
                }
                Ok(())
            }),
        ),
        (
            "KL(Q‖P) from σ and its gradients (kl_tensor)",
            Box::new(|| {
                for ((p, s), v) in params.iter().zip(&sigmas).zip(&scratch) {
                    let kl = pacbayes_nn::kl_tensor(p.mu().as_tensor(), s, p.prior_mu(), p.prior_sigma())?;
                    (kl + v.as_tensor().sum_all()?)?.backward()?;
                }
                Ok(())
            }),
        ),
        (
            "SGD momentum step (sgd_momentum_step)",
            Box::new(|| {
                for ((v, vel), g) in scratch.iter().zip(&velocity).zip(&grads) {
                    pacbayes_nn::sgd_momentum_step(v, vel, g, 1e-6, 0.9)?;
                }
                Ok(())
            }),
        ),
        (
            "Adam step (adam_step)",
            Box::new(|| {
                let step = AdamStep { learning_rate: 1e-6, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, t: 10 };
                for (((v, m1), m2), g) in scratch.iter().zip(&moment1).zip(&moment2).zip(&grads) {
                    pacbayes_nn::adam_step(v, m1, m2, g, step)?;
                }
                Ok(())
            }),
        ),
        (
            "KL-preconditioned momentum, μ and ρ, f64 master descent",
            Box::new(|| {
                for ((((p, vel), g), master), v) in
                    params.iter().zip(&velocity).zip(&grads).zip(&masters).zip(&scratch)
                {
                    let sp = p.prior_sigma();
                    pacbayes_nn::kl_preconditioned_momentum(
                        vel,
                        g,
                        v.as_tensor(),
                        sp,
                        KlGroup::Mean,
                        1.0,
                        0.9,
                    )?;
                    pacbayes_nn::kl_preconditioned_momentum(
                        vel,
                        g,
                        v.as_tensor(),
                        sp,
                        KlGroup::Rho,
                        1.0,
                        0.9,
                    )?;
                    pacbayes_nn::sgd_descend_master(v.as_tensor(), master, vel, 1e-9)?;
                }
                Ok(())
            }),
        ),
    ];
    for (name, mode) in
        [("training step, local reparameterization", Mode::Local), ("training step, one draw", Mode::Sample)]
    {
        let (net, x, y) = (&net, &x, &y);
        let mut noise = Noise::new(5);
        passes.push((
            name,
            Box::new(move || {
                let (logits, kl) = net.forward_and_kl(x, mode, &mut noise)?;
                let loss = (candle_nn::loss::cross_entropy(&logits, y)? + (kl / 30_000.0)?)?;
                loss.backward()?;
                Ok(())
            }),
        ));
    }

    println!("| pass | baseline (ms) | dispatched (ms) | dispatched / baseline: median [min, max] |");
    println!("|---|---:|---:|---:|");
    for (name, pass) in &mut passes {
        pass()?; // warm up: pages, caches
        let (mut base, mut fast, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let order = if round % 2 == 0 { [true, false] } else { [false, true] };
            let mut times = [0.0; 2];
            for baseline in order {
                pacbayes_nn::force_baseline_simd(baseline);
                let start = Instant::now();
                for _ in 0..reps {
                    pass()?;
                }
                times[usize::from(baseline)] = start.elapsed().as_secs_f64() * 1e3 / reps as f64;
            }
            pacbayes_nn::force_baseline_simd(false);
            fast.push(times[0]);
            base.push(times[1]);
            ratios.push(times[0] / times[1]);
        }
        let (lo, hi) = ratios.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        println!(
            "| {name} | {:.2} | {:.2} | {:.3} [{lo:.3}, {hi:.3}] |",
            median(&mut base),
            median(&mut fast),
            median(&mut ratios)
        );
    }
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { 0.5 * (values[n / 2 - 1] + values[n / 2]) }
}
