//! GFLOP/s of candle's matrix product on the shapes of an MNIST FCN training step (batch 250),
//! next to the square 1024² product: `cargo run --release -p pacbayes-nn --example matmul_shapes`.
//! With `OUTSIDE_POOL=1` the calling thread is not made a worker of rayon's pool
//! ([`pacbayes_nn::init_threads`]).

use std::time::Instant;

use candle_core::{Device, Tensor};

fn main() -> candle_core::Result<()> {
    if std::env::var_os("OUTSIDE_POOL").is_none() {
        pacbayes_nn::init_threads();
    }
    let dev = Device::Cpu;
    let time = |a: &Tensor, b: &Tensor, label: &str| -> candle_core::Result<()> {
        let (m, k) = a.dims2()?;
        let n = b.dims2()?.1;
        a.matmul(b)?;
        let reps = 30;
        let start = Instant::now();
        for _ in 0..reps {
            a.matmul(b)?;
        }
        let s = start.elapsed().as_secs_f64() / f64::from(reps);
        let gflops = 2.0 * (m * n * k) as f64 / s * 1e-9;
        println!("{label:<28} {m:>5}×{k:<5}·{k:>5}×{n:<5} {:>8.3} ms {gflops:>7.1} GFLOP/s", s * 1e3);
        Ok(())
    };
    let r = |shape: (usize, usize)| Tensor::randn(0f32, 1.0, shape, &dev);
    let sq = r((1024, 1024))?;
    time(&sq, &sq, "square")?;
    for (i, o) in [(784, 600), (600, 600)] {
        let (x, w, g) = (r((250, i))?, r((o, i))?, r((250, o))?);
        time(&x, &w.t()?, "forward x·Wᵀ")?;
        time(&x, &w.t()?.contiguous()?, "forward x·(Wᵀ contiguous)")?;
        time(&g, &w, "backward g·W")?;
        time(&g.t()?, &x, "backward gᵀ·x")?;
        time(&g.t()?.contiguous()?, &x, "backward (gᵀ contiguous)·x")?;
    }
    Ok(())
}
