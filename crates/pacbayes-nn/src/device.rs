//! Devices by name, as `--device` takes them: `cpu`, `cuda` or `cuda:N`, `metal` or `metal:N`.
//!
//! Every operation of this crate runs on any candle device: on the CPU through its own kernels,
//! elsewhere through the same computation composed of candle's operations. A GPU needs candle built
//! with its backend, which this crate's `cuda` and `metal` cargo features turn on.

use candle_core::Device;

use crate::{Error, Result};

/// The device named `name`.
///
/// ```
/// let cpu = pacbayes_nn::device("cpu")?;
/// assert!(cpu.is_cpu());
/// assert!(pacbayes_nn::device("tpu").is_err());
/// # Ok::<(), pacbayes_nn::Error>(())
/// ```
///
/// # Errors
/// An unknown name, or a GPU whose backend this build of candle lacks (the error names the cargo
/// feature to build with), or that cannot be opened.
pub fn device(name: &str) -> Result<Device> {
    let (kind, ordinal) = match name.trim().split_once(':') {
        Some((kind, n)) => (kind, n.parse::<usize>().map_err(|_| unknown(name))?),
        None => (name.trim(), 0),
    };
    match kind {
        "cpu" if ordinal == 0 => Ok(Device::Cpu),
        "cuda" if !candle_core::utils::cuda_is_available() => Err(missing(name, "cuda")),
        "cuda" => Device::new_cuda(ordinal)
            .map_err(|source| Error::DeviceUnavailable { name: name.into(), source: Box::new(source) }),
        "metal" if !candle_core::utils::metal_is_available() => Err(missing(name, "metal")),
        "metal" => Device::new_metal(ordinal)
            .map_err(|source| Error::DeviceUnavailable { name: name.into(), source: Box::new(source) }),
        _ => Err(unknown(name)),
    }
}

fn unknown(name: &str) -> Error {
    Error::UnknownDevice { name: name.into() }
}

fn missing(name: &str, feature: &'static str) -> Error {
    Error::DeviceNotBuilt { name: name.into(), feature }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_missing_backends_name_their_feature() {
        assert!(device("cpu").unwrap().is_cpu());
        assert!(matches!(device("gpu"), Err(Error::UnknownDevice { .. })));
        assert!(matches!(device("cuda:x"), Err(Error::UnknownDevice { .. })));
        assert!(matches!(device("cpu:1"), Err(Error::UnknownDevice { .. })));
        if !candle_core::utils::cuda_is_available() {
            let message = device("cuda:0").unwrap_err().to_string();
            assert!(message.contains("--features cuda"), "{message}");
        }
        if !candle_core::utils::metal_is_available() {
            assert!(device("metal").unwrap_err().to_string().contains("--features metal"));
        }
    }
}
