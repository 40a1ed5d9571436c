//! The seeded generator that every random draw of this crate comes from.
//!
//! candle's CPU generator cannot be seeded, so no candle `rand`/`randn` is ever used: weight noise,
//! pre-activation noise, dropout masks and initial means are all drawn here, from a ChaCha8 stream,
//! and turned into tensors with [`Tensor::from_vec`]. The same seed gives the same numbers, bit for
//! bit, and the draws of a forward pass depend only on the generator's state and the shapes involved.

use candle_core::{Device, Shape, Tensor};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Exp1, StandardNormal};

use rayon::prelude::*;

use crate::{Family, Result};

/// Normal draws per block of [`Noise::standard_normal`]: the weight draw of a layer of the MNIST
/// FCN (470,400 weights) is filled by 8 blocks in parallel.
pub const NORMAL_BLOCK: usize = 1 << 16;

/// A seeded stream of random numbers for weight draws, local-reparameterization noise and dropout.
///
/// ```
/// use pacbayes_nn::Noise;
/// let (mut a, mut b) = (Noise::new(7), Noise::new(7));
/// assert_eq!(a.standard_normal(3), b.standard_normal(3));
/// ```
#[derive(Debug, Clone)]
pub struct Noise {
    rng: ChaCha8Rng,
}

impl Noise {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// A generator continuing the given ChaCha8 stream.
    pub fn from_rng(rng: ChaCha8Rng) -> Self {
        Self { rng }
    }

    /// The underlying generator, for draws this type does not offer.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// A new generator seeded from this one: an independent stream (for example one per worker or
    /// per Monte Carlo sample) that is itself reproducible from this generator's seed.
    pub fn fork(&mut self) -> Noise {
        Noise::new(self.rng.next_u64())
    }

    /// `n` independent standard normal numbers. Up to [`NORMAL_BLOCK`] of them come from this
    /// generator's stream; more are drawn in blocks of that many, each from a generator seeded by
    /// the next number of this stream, in parallel. The numbers depend only on the generator's
    /// state and `n`, not on the number of threads.
    pub fn standard_normal(&mut self, n: usize) -> Vec<f32> {
        self.blocks(n, |values, rng| {
            values.iter_mut().for_each(|v| *v = rng.sample::<f32, _>(StandardNormal));
        })
    }

    /// `n` numbers made by `fill`: up to [`NORMAL_BLOCK`] from this generator's stream, more in
    /// blocks of that many, each from a generator seeded by the next number of this stream, in
    /// parallel (the numbers do not depend on the number of threads).
    fn blocks(&mut self, n: usize, fill: impl Fn(&mut [f32], &mut ChaCha8Rng) + Sync) -> Vec<f32> {
        let mut values = vec![0.0; n];
        if n <= NORMAL_BLOCK {
            fill(&mut values, &mut self.rng);
        } else {
            let seeds: Vec<u64> = (0..n.div_ceil(NORMAL_BLOCK)).map(|_| self.rng.next_u64()).collect();
            values.par_chunks_mut(NORMAL_BLOCK).zip(seeds).for_each(|(block, seed)| {
                fill(block, &mut ChaCha8Rng::seed_from_u64(seed));
            });
        }
        values
    }

    /// `n` independent draws from the standard Laplace distribution (location 0, scale 1), in
    /// blocks of [`NORMAL_BLOCK`] as [`Noise::standard_normal`] draws: ε = ±E with E ~ Exp(1)
    /// (ziggurat sampling) and an independent fair sign, one random bit of a 32-bit word per draw.
    pub fn standard_laplace(&mut self, n: usize) -> Vec<f32> {
        self.blocks(n, |values, rng| {
            for chunk in values.chunks_mut(32) {
                let signs = rng.next_u32();
                for (i, v) in chunk.iter_mut().enumerate() {
                    let e: f32 = rng.sample(Exp1);
                    *v = if signs >> i & 1 == 1 { e } else { -e };
                }
            }
        })
    }

    /// `n` independent standard draws of `family` (location 0, scale 1): what a weight draw
    /// μ + scale·ε takes.
    pub fn standard(&mut self, family: Family, n: usize) -> Vec<f32> {
        match family {
            Family::Gaussian => self.standard_normal(n),
            Family::Laplace => self.standard_laplace(n),
        }
    }

    /// A tensor of independent standard draws of `family`.
    ///
    /// # Errors
    /// Only if candle cannot build the tensor on `device`.
    pub fn standard_tensor<S: Into<Shape>>(
        &mut self,
        family: Family,
        shape: S,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let data = self.standard(family, shape.elem_count());
        Ok(Tensor::from_vec(data, shape, device)?)
    }

    /// A tensor of independent standard normal entries.
    ///
    /// # Errors
    /// Only if candle cannot build the tensor on `device`.
    pub fn normal_tensor<S: Into<Shape>>(&mut self, shape: S, device: &Device) -> Result<Tensor> {
        let shape = shape.into();
        let data = self.standard_normal(shape.elem_count());
        Ok(Tensor::from_vec(data, shape, device)?)
    }

    /// `n` numbers from a normal with mean 0 and standard deviation `std`, truncated to
    /// [−2·std, 2·std] (by rejection, so the law is exactly the truncated normal).
    pub fn truncated_normal(&mut self, n: usize, std: f64) -> Vec<f32> {
        let rng = &mut self.rng;
        (0..n)
            .map(|_| {
                loop {
                    let z: f64 = rng.sample(StandardNormal);
                    if z.abs() <= 2.0 {
                        break (z * std) as f32;
                    }
                }
            })
            .collect()
    }

    /// An inverted-dropout mask: each entry is 0 with probability `rate` and 1/(1 − rate) otherwise,
    /// so that multiplying by it keeps the expected activation.
    pub fn dropout_mask(&mut self, n: usize, rate: f32) -> Vec<f32> {
        let keep = 1.0 - rate;
        let scale = 1.0 / keep;
        let rng = &mut self.rng;
        // Branch-free: which entries are kept is random, so a branch on it is mispredicted often.
        (0..n).map(|_| scale * f32::from(u8::from(rng.random::<f32>() < keep))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bits_and_different_seeds_differ() {
        let bits =
            |seed| Noise::new(seed).standard_normal(1000).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(3), bits(3));
        assert_ne!(bits(3), bits(4));
    }

    #[test]
    fn long_draws_are_blocks_of_seeded_streams() {
        let n = 2 * NORMAL_BLOCK + 5;
        let (mut a, mut b) = (Noise::new(3), Noise::new(3));
        let long = a.standard_normal(n);
        assert_eq!(long, b.standard_normal(n));
        // The third block is the stream seeded by the third number of the generator.
        let mut seeds = ChaCha8Rng::seed_from_u64(3);
        let third = (0..3).map(|_| seeds.next_u64()).last().unwrap_or(0);
        let mut block = Noise::new(third);
        assert_eq!(long[2 * NORMAL_BLOCK..], block.standard_normal(5)[..]);
        assert_ne!(long[..NORMAL_BLOCK], long[NORMAL_BLOCK..2 * NORMAL_BLOCK]);
        // Short draws continue the generator's own stream.
        let (short, mut stream) = (Noise::new(3).standard_normal(4), Noise::new(3));
        let from_stream: Vec<f32> = (0..4).map(|_| stream.rng().sample::<f32, _>(StandardNormal)).collect();
        assert_eq!(short, from_stream);
    }

    #[test]
    fn laplace_draws_have_the_right_law() {
        let v = Noise::new(5).standard_laplace(400_000);
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let mean_abs = v.iter().map(|&x| f64::from(x.abs())).sum::<f64>() / n;
        let var = v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / n;
        // Standard Laplace: mean 0, E|ε| = 1, variance 2 (standard errors about 0.002, 0.002, 0.005).
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((mean_abs - 1.0).abs() < 0.01, "{mean_abs}");
        assert!((var - 2.0).abs() < 0.03, "{var}");
        // P(|ε| > 3) = e^{-3}.
        let tail = v.iter().filter(|x| x.abs() > 3.0).count() as f64 / n;
        assert!((tail - (-3.0_f64).exp()).abs() < 0.002, "{tail}");
        assert!(v.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn normal_draws_have_the_right_moments() {
        let v = Noise::new(1).standard_normal(100_000);
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / 1e5;
        let var = v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / 1e5;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn truncated_normal_stays_within_two_std() {
        let v = Noise::new(2).truncated_normal(10_000, 0.5);
        assert!(v.iter().all(|x| x.abs() <= 1.0));
        // Truncation at ±2σ keeps the standard deviation at about 0.88σ.
        let sd = (v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / 1e4).sqrt();
        assert!((sd - 0.44).abs() < 0.02, "std {sd}");
    }

    #[test]
    fn dropout_mask_keeps_the_expectation() {
        let m = Noise::new(5).dropout_mask(100_000, 0.2);
        let zeros = m.iter().filter(|&&x| x < 0.5).count();
        assert!((zeros as f64 / 1e5 - 0.2).abs() < 0.01);
        let mean = m.iter().map(|&x| f64::from(x)).sum::<f64>() / 1e5;
        assert!((mean - 1.0).abs() < 0.01);
    }
}
