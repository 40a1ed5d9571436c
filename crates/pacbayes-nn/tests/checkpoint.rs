//! Saving and loading priors and posteriors: round trips, and each bad file stopped with an error
//! that names the tensor.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use pacbayes_nn::{Architecture, Error, GaussianWeights, Network, Noise};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ARCH: Architecture = Architecture::Linear { inputs: 5, classes: 3 };

fn values(t: &Tensor) -> Result<Vec<u32>, candle_core::Error> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?.iter().map(|v| v.to_bits()).collect())
}

#[test]
fn the_same_posterior_gives_the_same_bytes() -> TestResult {
    // The safetensors metadata were written from a HashMap, in a different order each process and
    // often each call: files of equal tensors differed in bytes. Each copy is written anew.
    let dir = tempfile::tempdir()?;
    let dev = Device::Cpu;
    let prior = GaussianWeights::random(ARCH, 0.05, 3, &dev)?;
    let net = Network::from_prior(&prior)?;
    let files: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            let path = dir.path().join(format!("posterior-{i}.safetensors"));
            net.save_posterior(&path).unwrap();
            prior.save(dir.path().join(format!("prior-{i}.safetensors"))).unwrap();
            std::fs::read(path).unwrap()
        })
        .collect();
    assert!(files.iter().all(|f| *f == files[0]), "the copies differ in bytes");
    let priors: Vec<Vec<u8>> =
        (0..6).map(|i| std::fs::read(dir.path().join(format!("prior-{i}.safetensors"))).unwrap()).collect();
    assert!(priors.iter().all(|f| *f == priors[0]));
    // Still a valid safetensors file with its metadata, read by the reference reader.
    let (header_len, meta) = safetensors::SafeTensors::read_metadata(&files[0])?;
    assert_eq!(header_len % 8, 0);
    let meta = meta.metadata().clone().unwrap_or_default();
    assert_eq!(meta.get("content").map(String::as_str), Some("posterior"));
    assert_eq!(meta.get("architecture").map(String::as_str), Some(ARCH.to_string().as_str()));
    let header = std::str::from_utf8(&files[0][8..8 + header_len])?;
    assert!(header.starts_with(r#"{"__metadata__":{"architecture":"#), "{header}");
    let back = Network::load_posterior(&prior, dir.path().join("posterior-0.safetensors"))?;
    assert_eq!(net.kl_value()?.to_bits(), back.kl_value()?.to_bits());
    let left = std::fs::read_dir(dir.path())?
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().starts_with('.')))
        .count();
    assert_eq!(left, 0, "no temporary file is left behind");
    Ok(())
}

#[test]
fn prior_and_posterior_round_trip_bit_for_bit() -> TestResult {
    let dir = tempfile::tempdir()?;
    let dev = Device::Cpu;
    let prior = GaussianWeights::random(Architecture::Cnn, 0.05, 1, &dev)?;
    prior.save(dir.path().join("prior.safetensors"))?;
    let loaded = GaussianWeights::load(Architecture::Cnn, dir.path().join("prior.safetensors"), None, &dev)?;
    for (a, b) in prior.mu().iter().zip(loaded.mu()).chain(prior.sigma().iter().zip(loaded.sigma())) {
        assert_eq!(values(a)?, values(b)?);
    }

    let net = Network::from_prior(&prior)?;
    let mut noise = Noise::new(2);
    for p in net.params() {
        let shift = Tensor::from_vec(noise.standard_normal(p.prior_mu().elem_count()), p.dims(), &dev)?;
        p.set_posterior(&(p.mu().as_tensor() + (shift * 0.01)?)?, &(p.rho().as_tensor() - 0.5)?)?;
    }
    net.save_posterior(dir.path().join("posterior.safetensors"))?;
    let back = Network::load_posterior(&loaded, dir.path().join("posterior.safetensors"))?;
    for (p, q) in net.params().zip(back.params()) {
        assert_eq!(values(p.mu().as_tensor())?, values(q.mu().as_tensor())?, "{}", p.name());
        assert_eq!(values(p.rho().as_tensor())?, values(q.rho().as_tensor())?, "{}", p.name());
    }
    assert_eq!(net.kl_value()?.to_bits(), back.kl_value()?.to_bits());
    assert!(net.kl_value()? > 1.0);
    Ok(())
}

/// Writes a file in the documented format by hand, as a network trained elsewhere would be.
fn write(path: &std::path::Path, tensors: &[(&str, Tensor)]) -> TestResult {
    let map: HashMap<String, Tensor> = tensors.iter().map(|(n, t)| (n.to_string(), t.clone())).collect();
    candle_core::safetensors::save(&map, path)?;
    Ok(())
}

fn means(w_shape: (usize, usize)) -> Result<(Tensor, Tensor), candle_core::Error> {
    let dev = Device::Cpu;
    Ok((Tensor::ones(w_shape, DType::F32, &dev)?, Tensor::zeros(3, DType::F64, &dev)?))
}

#[test]
fn a_means_only_file_takes_the_default_scale() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("exported.safetensors");
    let (w, b) = means((3, 5))?;
    write(&path, &[("layers.0.weight.mu", w), ("layers.0.bias.mu", b)])?;
    let prior = GaussianWeights::load(ARCH, &path, Some(0.02), &Device::Cpu)?;
    assert!(prior.sigma()[1].to_vec1::<f32>()?.iter().all(|&s| (s - 0.02).abs() < 1e-9));
    assert_eq!(prior.mu()[1].dtype(), DType::F32);
    let err = GaussianWeights::load(ARCH, &path, None, &Device::Cpu);
    assert!(
        matches!(err, Err(Error::MissingTensor { ref tensor, .. }) if tensor == "layers.0.weight.sigma"),
        "{err:?}"
    );
    assert!(matches!(
        GaussianWeights::load(ARCH, &path, Some(0.0), &Device::Cpu),
        Err(Error::InvalidScale { .. })
    ));
    Ok(())
}

#[test]
fn bad_files_are_rejected_naming_the_tensor() -> TestResult {
    let dir = tempfile::tempdir()?;
    let dev = Device::Cpu;
    let path = dir.path().join("bad.safetensors");

    let (w, b) = means((5, 3))?;
    write(&path, &[("layers.0.weight.mu", w), ("layers.0.bias.mu", b)])?;
    let err = GaussianWeights::load(ARCH, &path, Some(0.1), &dev);
    assert!(
        matches!(err, Err(Error::ShapeMismatch { ref tensor, ref expected, .. }) if tensor == "layers.0.weight.mu" && expected == &[3, 5]),
        "{err:?}"
    );

    let (w, _) = means((3, 5))?;
    let nan_bias = Tensor::new(&[0.0_f32, f32::NAN, 0.0], &dev)?;
    write(&path, &[("layers.0.weight.mu", w.clone()), ("layers.0.bias.mu", nan_bias)])?;
    let err = GaussianWeights::load(ARCH, &path, Some(0.1), &dev);
    assert!(
        matches!(err, Err(Error::NonFinite { ref tensor, index: 1, .. }) if tensor == "layers.0.bias.mu"),
        "{err:?}"
    );

    let (_, b) = means((3, 5))?;
    write(
        &path,
        &[
            ("layers.0.weight.mu", w.clone()),
            ("layers.0.bias.mu", b.clone()),
            ("layers.1.weight.mu", w.clone()),
        ],
    )?;
    let err = GaussianWeights::load(ARCH, &path, Some(0.1), &dev);
    assert!(
        matches!(err, Err(Error::UnexpectedTensor { ref tensor, .. }) if tensor == "layers.1.weight.mu"),
        "{err:?}"
    );

    let ints = Tensor::zeros(3, DType::U32, &dev)?;
    write(&path, &[("layers.0.weight.mu", w), ("layers.0.bias.mu", ints)])?;
    assert!(matches!(
        GaussianWeights::load(ARCH, &path, Some(0.1), &dev),
        Err(Error::UnsupportedDtype { .. })
    ));

    // A file recording another architecture; a posterior file read as a prior; not a file at all.
    let prior = GaussianWeights::random(ARCH, 0.1, 0, &dev)?;
    prior.save(&path)?;
    let other = Architecture::Linear { inputs: 5, classes: 4 };
    assert!(matches!(
        GaussianWeights::load(other, &path, None, &dev),
        Err(Error::ArchitectureMismatch { .. })
    ));
    let net = Network::from_prior(&prior)?;
    net.save_posterior(&path)?;
    let err = GaussianWeights::load(ARCH, &path, None, &dev);
    assert!(
        matches!(err, Err(Error::MissingTensor { ref tensor, .. }) if tensor == "layers.0.weight.sigma"),
        "{err:?}"
    );
    std::fs::write(&path, b"not safetensors")?;
    assert!(matches!(GaussianWeights::load(ARCH, &path, None, &dev), Err(Error::Safetensors { .. })));
    assert!(matches!(
        GaussianWeights::load(ARCH, dir.path().join("missing"), None, &dev),
        Err(Error::Io { .. })
    ));
    Ok(())
}
