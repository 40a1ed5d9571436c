//! `--device`: where the tensors of a command live.

use anyhow::Result;
use candle_core::Device;

/// The device named `name` (`cpu`, `cuda`, `cuda:N`, `metal`, `metal:N`), the CPU when none is given.
///
/// # Errors
/// An unknown name, or a GPU this build cannot use; the message names the cargo feature that builds
/// its backend (exit status 2).
pub(crate) fn resolve(name: Option<&str>) -> Result<Device> {
    match name {
        None => Ok(Device::Cpu),
        Some(name) => Ok(pacbayes_nn::device(name)?),
    }
}

/// The deterministic network `net` (a drawn network, which `pacbayes_eval::load_drawn` reads onto the
/// CPU) with its weights on `device`.
///
/// # Errors
/// A copy to the device that fails.
pub(crate) fn drawn_on(net: pacbayes_nn::Network, device: &Device) -> Result<pacbayes_nn::Network> {
    if net.device().same_device(device) {
        return Ok(net);
    }
    let mu = net.prior().mu().iter().map(|t| t.to_device(device)).collect::<candle_core::Result<Vec<_>>>()?;
    let weights = pacbayes_nn::GaussianWeights::from_means(net.architecture(), mu, 1.0)?;
    Ok(pacbayes_nn::Network::from_prior(&weights)?)
}
