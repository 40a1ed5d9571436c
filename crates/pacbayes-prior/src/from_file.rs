//! A prior read from a safetensors checkpoint, for example a network trained elsewhere.
//!
//! Tensor names are those of `pacbayes-nn` (see its crate docs, "Checkpoints"): `{p}.mu` and
//! optionally `{p}.sigma` for every parameter `{p}` = `layers.{i}.weight` / `layers.{i}.bias`, with
//! PyTorch's weight layouts. Without `.sigma` tensors, every scale is σ₀.

use std::path::{Path, PathBuf};

use candle_core::Device;
use pacbayes_bounds::Charge;
use pacbayes_nn::{Architecture, GaussianWeights};

use crate::{Prior, Result, ScaleChoice};

/// A prior whose mean (and optionally scale) is read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct FromFile {
    path: PathBuf,
    scale: Option<ScaleChoice>,
}

impl FromFile {
    /// The checkpoint at `path`; `scale` gives σ₀ when the file holds means only.
    pub fn new(path: impl AsRef<Path>, scale: Option<ScaleChoice>) -> Self {
        Self { path: path.as_ref().to_path_buf(), scale }
    }

    /// The checkpoint's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Prior for FromFile {
    fn weights(&self, architecture: Architecture, device: &Device) -> Result<GaussianWeights> {
        let sigma0 = self.scale.as_ref().map(ScaleChoice::sigma0);
        Ok(GaussianWeights::load(architecture, &self.path, sigma0, device)?)
    }

    fn description(&self) -> String {
        match &self.scale {
            Some(s) => format!(
                "from file {} (sigma0 = {} where no scale is stored)",
                self.path.display(),
                s.sigma0()
            ),
            None => format!("from file {}", self.path.display()),
        }
    }

    fn charges(&self) -> Vec<Charge> {
        self.scale.as_ref().map(ScaleChoice::charges).unwrap_or_default()
    }
}
