//! Shapes of every architecture, input reshaping, and the marginal law of the stochastic modes.

use candle_core::{Device, Tensor};
use pacbayes_nn::{Architecture, Error, Mode, Network, Noise};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn every_architecture_gives_logits_of_the_right_shape() -> TestResult {
    let dev = Device::Cpu;
    let cases = [
        (Architecture::Fcn, 10, 4),
        (Architecture::Cnn, 10, 4),
        (Architecture::Cnn6, 10, 6),
        (Architecture::FcnBinary, 2, 2),
        (Architecture::Linear { inputs: 6, classes: 3 }, 3, 1),
        (Architecture::Cnn9, 10, 9),
        (Architecture::Cnn13, 10, 13),
        (Architecture::Cnn15, 10, 15),
    ];
    for (arch, classes, layers) in cases {
        let net = Network::from_seed(arch, 0.03, 0, &dev)?;
        assert_eq!(net.layers().len(), layers, "{arch}");
        assert_eq!(net.params().count(), 2 * layers, "{arch}");
        let x = Tensor::from_vec(Noise::new(1).standard_normal(2 * arch.inputs()), (2, arch.inputs()), &dev)?;
        for mode in [Mode::Sample, Mode::Local, Mode::Mean, Mode::MeanDropout { rate: 0.2 }] {
            let y = net.forward(&x, mode, &mut Noise::new(2))?;
            assert_eq!(y.dims(), &[2, classes], "{arch} {mode:?}");
            assert!(y.flatten_all()?.to_vec1::<f32>()?.iter().all(|v| v.is_finite()));
        }
    }
    Ok(())
}

#[test]
fn mnist_inputs_are_reshaped_either_way() -> TestResult {
    let dev = Device::Cpu;
    let flat = Tensor::from_vec(Noise::new(3).standard_normal(2 * 784), (2, 784), &dev)?;
    let image = flat.reshape((2, 1, 28, 28))?;
    for arch in [Architecture::Fcn, Architecture::Cnn, Architecture::Cnn6] {
        let net = Network::from_seed(arch, 0.03, 0, &dev)?;
        let a = net.forward_mean(&flat)?.flatten_all()?.to_vec1::<f32>()?;
        let b = net.forward_mean(&image)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(a, b, "{arch}");
    }
    let net = Network::from_seed(Architecture::Fcn, 0.03, 0, &dev)?;
    let wrong = Tensor::zeros((2, 783), candle_core::DType::F32, &dev)?;
    assert!(matches!(net.forward_mean(&wrong), Err(Error::InputShape { .. })));
    assert!(matches!(
        net.forward(&flat, Mode::MeanDropout { rate: 1.0 }, &mut Noise::new(0)),
        Err(Error::InvalidDropout { .. })
    ));
    Ok(())
}

/// Mean and variance of draws, per coordinate.
fn moments(draws: &[Vec<f32>]) -> (Vec<f64>, Vec<f64>) {
    let n = draws.len() as f64;
    let k = draws[0].len();
    let mean: Vec<f64> = (0..k).map(|j| draws.iter().map(|d| f64::from(d[j])).sum::<f64>() / n).collect();
    let var = (0..k)
        .map(|j| draws.iter().map(|d| (f64::from(d[j]) - mean[j]).powi(2)).sum::<f64>() / (n - 1.0))
        .collect();
    (mean, var)
}

/// Both stochastic modes of a linear layer give pre-activations with mean x·μ + μ_b and variance
/// x²·σ² + σ_b², computed here by hand from the parameters.
#[test]
fn linear_modes_have_the_exact_marginal() -> TestResult {
    let dev = Device::Cpu;
    let net = Network::from_seed(Architecture::Linear { inputs: 3, classes: 2 }, 0.2, 6, &dev)?;
    let x = [0.5_f32, -1.0, 2.0];
    let xt = Tensor::new(&[x], &dev)?;
    let layer = &net.layers()[0];
    let mu_w = layer.weight().mu().as_tensor().to_vec2::<f32>()?;
    let sigma_w = layer.weight().sigma()?.to_vec2::<f32>()?;
    let mu_b = layer.bias().mu().as_tensor().to_vec1::<f32>()?;
    let sigma_b = layer.bias().sigma()?.to_vec1::<f32>()?;
    for mode in [Mode::Sample, Mode::Local] {
        let mut noise = Noise::new(7);
        let draws: Vec<Vec<f32>> = (0..4000)
            .map(|_| Ok(net.forward(&xt, mode, &mut noise)?.get(0)?.to_vec1::<f32>()?))
            .collect::<Result<_, Error>>()?;
        let (mean, var) = moments(&draws);
        for j in 0..2 {
            let m: f64 = (0..3).map(|i| f64::from(x[i] * mu_w[j][i])).sum::<f64>() + f64::from(mu_b[j]);
            let v: f64 = (0..3).map(|i| f64::from(x[i] * sigma_w[j][i]).powi(2)).sum::<f64>()
                + f64::from(sigma_b[j]).powi(2);
            let se = (v / 4000.0).sqrt();
            assert!((mean[j] - m).abs() < 4.0 * se, "{mode:?} unit {j}: mean {} vs {m}", mean[j]);
            assert!((var[j] / v - 1.0).abs() < 0.1, "{mode:?} unit {j}: variance {} vs {v}", var[j]);
        }
    }
    Ok(())
}

/// The same for the first convolution of the CNN (applied to a 5×5 image) at one output position,
/// by hand over the 3×3 patch.
#[test]
fn conv_modes_have_the_exact_marginal() -> TestResult {
    let dev = Device::Cpu;
    let net = Network::from_seed(Architecture::Cnn, 0.1, 8, &dev)?;
    let image = Noise::new(9).standard_normal(25);
    let x = Tensor::from_vec(image.clone(), (1, 1, 5, 5), &dev)?;
    let conv = &net.layers()[0];
    let (channel, row, col) = (5, 1, 2);
    let mu_w = conv.weight().mu().as_tensor().get(channel)?.flatten_all()?.to_vec1::<f32>()?;
    let sigma_w = conv.weight().sigma()?.get(channel)?.flatten_all()?.to_vec1::<f32>()?;
    let mu_b = f64::from(conv.bias().mu().as_tensor().get(channel)?.to_vec0::<f32>()?);
    let sigma_b = f64::from(conv.bias().sigma()?.get(channel)?.to_vec0::<f32>()?);
    let (mut m, mut v) = (mu_b, sigma_b * sigma_b);
    for (k, (mw, sw)) in mu_w.iter().zip(&sigma_w).enumerate() {
        let xi = f64::from(image[(row + k / 3) * 5 + col + k % 3]);
        m += xi * f64::from(*mw);
        v += (xi * f64::from(*sw)).powi(2);
    }
    for mode in [Mode::Sample, Mode::Local] {
        let mut noise = Noise::new(10);
        let draws: Vec<Vec<f32>> = (0..3000)
            .map(|_| {
                Ok(vec![
                    conv.forward(&x, mode, &mut noise, None)?
                        .get(0)?
                        .get(channel)?
                        .get(row)?
                        .get(col)?
                        .to_vec0::<f32>()?,
                ])
            })
            .collect::<Result<_, Error>>()?;
        let (mean, var) = moments(&draws);
        let se = (v / 3000.0).sqrt();
        assert!((mean[0] - m).abs() < 4.0 * se, "{mode:?}: mean {} vs {m}", mean[0]);
        assert!((var[0] / v - 1.0).abs() < 0.1, "{mode:?}: variance {} vs {v}", var[0]);
    }
    Ok(())
}

/// A padded convolution of the CIFAR-10 CNNs is candle's own convolution with padding 1 (the
/// reference), on a 3-channel image, for the mean network's first layer.
#[test]
fn padded_convolution_matches_candle() -> TestResult {
    let dev = Device::Cpu;
    let net = Network::from_seed(Architecture::Cnn9, 0.05, 11, &dev)?;
    let x = Tensor::from_vec(Noise::new(12).standard_normal(2 * 3 * 32 * 32), (2, 3, 32, 32), &dev)?;
    let conv = &net.layers()[0];
    let (w, b) = (conv.weight().mu().as_tensor(), conv.bias().mu().as_tensor());
    let reference = x.conv2d(w, 1, 1, 1, 1)?.broadcast_add(&b.reshape((1, 32, 1, 1))?)?;
    let padded = Architecture::Cnn9.stages()[0].layer.pad_input(&x)?;
    assert_eq!(padded.dims(), &[2, 3, 34, 34]);
    let ours = conv.forward(&padded, Mode::Mean, &mut Noise::new(0), None)?;
    assert_eq!(ours.dims(), &[2, 32, 32, 32]);
    let diff = (ours - reference)?.abs()?.flatten_all()?.max(0)?.to_vec0::<f32>()?;
    assert!(diff < 1e-4, "largest difference {diff}");
    Ok(())
}
