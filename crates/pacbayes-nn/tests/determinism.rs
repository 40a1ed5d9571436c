//! Every random draw comes from the seeded generator: same seed, same bits; other seed, other bits.

use candle_core::{Device, Tensor};
use pacbayes_nn::{Architecture, Mode, Network, Noise};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn bits(t: &Tensor) -> Result<Vec<u32>, candle_core::Error> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?.iter().map(|v| v.to_bits()).collect())
}

fn batch(n: usize, d: usize, seed: u64) -> Result<Tensor, candle_core::Error> {
    Tensor::from_vec(Noise::new(seed).standard_normal(n * d), (n, d), &Device::Cpu)
}

#[test]
fn same_seed_same_bits_in_every_mode() -> TestResult {
    let x = batch(4, 784, 0)?;
    // Two networks built from the same seed are identical, and so are their forward passes.
    let a = Network::from_seed(Architecture::FcnBinary, 0.1, 9, &Device::Cpu)?;
    let b = Network::from_seed(Architecture::FcnBinary, 0.1, 9, &Device::Cpu)?;
    for mode in [Mode::Sample, Mode::Local, Mode::Mean, Mode::MeanDropout { rate: 0.2 }] {
        let ya = a.forward(&x, mode, &mut Noise::new(17))?;
        let yb = b.forward(&x, mode, &mut Noise::new(17))?;
        assert_eq!(bits(&ya)?, bits(&yb)?, "{mode:?}");
        let yc = a.forward(&x, mode, &mut Noise::new(18))?;
        if mode == Mode::Mean {
            assert_eq!(bits(&ya)?, bits(&yc)?, "the mean network ignores the noise");
        } else {
            assert_ne!(bits(&ya)?, bits(&yc)?, "{mode:?} with another seed");
        }
    }
    let c = Network::from_seed(Architecture::FcnBinary, 0.1, 10, &Device::Cpu)?;
    assert_ne!(bits(&a.forward_mean(&x)?)?, bits(&c.forward_mean(&x)?)?);
    Ok(())
}

#[test]
fn successive_draws_differ_and_a_drawn_network_repeats_sample_mode() -> TestResult {
    let x = batch(3, 784, 1)?;
    let net = Network::from_seed(Architecture::FcnBinary, 0.1, 2, &Device::Cpu)?;
    let mut noise = Noise::new(5);
    let first = net.forward(&x, Mode::Sample, &mut noise)?;
    let second = net.forward(&x, Mode::Sample, &mut noise)?;
    assert_ne!(bits(&first)?, bits(&second)?);
    // A drawn network makes the same draws as a Sample-mode pass from the same generator state,
    // and gives the same outputs batch after batch.
    let drawn = net.draw(&mut Noise::new(5))?;
    assert_eq!(bits(&drawn.forward(&x)?)?, bits(&first)?);
    assert_eq!(bits(&drawn.forward(&x.narrow(0, 1, 2)?)?)?, bits(&first.narrow(0, 1, 2)?)?);
    Ok(())
}

#[test]
fn local_mode_noise_is_independent_per_example() -> TestResult {
    // The same example twice in a batch: Sample mode gives equal outputs (one network), Local mode
    // gives different ones (independent pre-activation noise per example).
    let row = batch(1, 784, 3)?;
    let x = Tensor::cat(&[&row, &row], 0)?;
    let net = Network::from_seed(Architecture::FcnBinary, 0.1, 4, &Device::Cpu)?;
    let sample = net.forward(&x, Mode::Sample, &mut Noise::new(1))?;
    assert_eq!(bits(&sample.get(0)?)?, bits(&sample.get(1)?)?);
    let local = net.forward(&x, Mode::Local, &mut Noise::new(1))?;
    assert_ne!(bits(&local.get(0)?)?, bits(&local.get(1)?)?);
    Ok(())
}
