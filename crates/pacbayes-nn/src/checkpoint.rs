//! Saving and loading priors and posteriors as safetensors files.
//!
//! The format is described in the crate docs, section "Checkpoints".

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::safetensors::Load;
use candle_core::{DType, Device, Tensor};
use safetensors::{Dtype, SafeTensors};

use crate::param::{check_finite, check_shape};
use crate::{Architecture, Error, Family, GaussianWeights, Network, Result};

/// The header metadata. `distribution` is written for a family other than the Gaussian only, so
/// that the files of Gaussian priors and posteriors keep their bytes.
fn metadata(architecture: Architecture, family: Family, content: &str) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::from([
        ("format".to_string(), "pacbayes-nn".to_string()),
        ("content".to_string(), content.to_string()),
        ("architecture".to_string(), architecture.to_string()),
    ]);
    if family != Family::Gaussian {
        meta.insert("distribution".to_string(), family.to_string());
    }
    meta
}

/// The bytes of a safetensors file holding `tensors` and `meta`, the same for the same content:
/// the tensors in name order (as `safetensors` lays them out) and the metadata keys sorted (the
/// `safetensors` crate writes them from a `HashMap`, in a different order each time).
fn to_bytes(path: &Path, tensors: Vec<(String, Tensor)>, meta: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let st_err = |source| Error::Safetensors { path: path.to_path_buf(), source };
    let plain = safetensors::serialize(tensors, None).map_err(st_err)?;
    let n =
        usize::try_from(u64::from_le_bytes(plain[..8].try_into().expect("8 bytes"))).expect("a small header");
    let header = std::str::from_utf8(&plain[8..8 + n]).expect("the header is JSON text").trim_end();
    let meta: Vec<String> =
        meta.iter().map(|(k, v)| format!("{}:{}", json_string(k), json_string(v))).collect();
    let meta = format!("{{{}}}", meta.join(","));
    // The header is a JSON object: `{"name":{...},...}`; the metadata goes first.
    let mut text = match header.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
        Some("") | None => format!("{{\"__metadata__\":{meta}}}"),
        Some(entries) => format!("{{\"__metadata__\":{meta},{entries}}}"),
    };
    while text.len() % 8 != 0 {
        text.push(' ');
    }
    let mut bytes = Vec::with_capacity(8 + text.len() + plain.len() - 8 - n);
    bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend_from_slice(&plain[8 + n..]);
    Ok(bytes)
}

/// `text` as a JSON string.
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes the file through a temporary sibling, synced and renamed into place ([`crate::atomic`]).
fn write(path: &Path, tensors: Vec<(String, Tensor)>, meta: BTreeMap<String, String>) -> Result<()> {
    let bytes = to_bytes(path, tensors, &meta)?;
    crate::atomic::write(path, &bytes).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// The tensors of a file, converted to f32 on `device`, after checking its recorded architecture,
/// with the family it records (Gaussian when it records none).
fn read(
    path: &Path,
    architecture: Architecture,
    device: &Device,
) -> Result<(HashMap<String, Tensor>, Family)> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let st_err = |source| Error::Safetensors { path: path.to_path_buf(), source };
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(st_err)?;
    if let Some(found) = meta.metadata().as_ref().and_then(|m| m.get("architecture")) {
        if found.parse::<Architecture>().ok() != Some(architecture) {
            return Err(Error::ArchitectureMismatch {
                path: path.to_path_buf(),
                expected: architecture.to_string(),
                found: found.clone(),
            });
        }
    }
    let family = match meta.metadata().as_ref().and_then(|m| m.get("distribution")) {
        Some(name) => name.parse::<Family>().map_err(|_| Error::FamilyMismatch {
            path: path.to_path_buf(),
            expected: "gaussian or laplace".into(),
            found: name.clone(),
        })?,
        None => Family::Gaussian,
    };
    let st = SafeTensors::deserialize(&bytes).map_err(st_err)?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if !matches!(view.dtype(), Dtype::F32 | Dtype::F64 | Dtype::F16 | Dtype::BF16) {
            return Err(Error::UnsupportedDtype { tensor: name, dtype: format!("{:?}", view.dtype()) });
        }
        let t = view.load(device)?.to_dtype(DType::F32)?;
        out.insert(name, t);
    }
    Ok((out, family))
}

/// Takes the tensor `name` out of `tensors`, checking shape and finiteness.
fn take(tensors: &mut HashMap<String, Tensor>, path: &Path, name: &str, shape: &[usize]) -> Result<Tensor> {
    let t = tensors
        .remove(name)
        .ok_or_else(|| Error::MissingTensor { path: path.to_path_buf(), tensor: name.to_string() })?;
    check_shape(name, &t, shape)?;
    check_finite(name, &t)?;
    Ok(t)
}

/// Fails on the first tensor left over (in name order, for a deterministic message).
fn reject_leftovers(tensors: HashMap<String, Tensor>, path: &Path, architecture: Architecture) -> Result<()> {
    match tensors.into_keys().min() {
        Some(tensor) => Err(Error::UnexpectedTensor {
            path: path.to_path_buf(),
            tensor,
            architecture: architecture.to_string(),
        }),
        None => Ok(()),
    }
}

impl GaussianWeights {
    /// Writes `{p}.mu` and `{p}.sigma` for every parameter (see the [crate docs](crate#checkpoints)).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut tensors = Vec::new();
        for ((name, _), (mu, sigma)) in
            self.architecture().params().iter().zip(self.mu().iter().zip(self.sigma()))
        {
            tensors.push((format!("{name}.mu"), mu.clone()));
            tensors.push((format!("{name}.sigma"), sigma.clone()));
        }
        write(path.as_ref(), tensors, metadata(self.architecture(), self.family(), "gaussian-weights"))
    }

    /// Reads means `{p}.mu` and scales `{p}.sigma` for `architecture`. A file with means only (a
    /// network trained elsewhere) takes the scale `default_sigma` for every parameter.
    ///
    /// # Errors
    /// A missing, unexpected, misshapen or non-finite tensor, a scale ≤ 0, a file recording another
    /// architecture, no scales and no `default_sigma`, or an unreadable file.
    pub fn load(
        architecture: Architecture,
        path: impl AsRef<Path>,
        default_sigma: Option<f64>,
        device: &Device,
    ) -> Result<Self> {
        let path = path.as_ref();
        let (mut tensors, family) = read(path, architecture, device)?;
        let has_sigma = tensors.keys().any(|k| k.ends_with(".sigma"));
        let (mut mu, mut sigma) = (Vec::new(), Vec::new());
        for (name, shape) in architecture.params() {
            mu.push(take(&mut tensors, path, &format!("{name}.mu"), &shape)?);
            if has_sigma || default_sigma.is_none() {
                sigma.push(take(&mut tensors, path, &format!("{name}.sigma"), &shape)?);
            }
        }
        reject_leftovers(tensors, path, architecture)?;
        let weights = match default_sigma {
            Some(sigma0) if !has_sigma => Self::from_means(architecture, mu, sigma0),
            _ => Self::new(architecture, mu, sigma),
        }?;
        Ok(weights.with_family(family))
    }
}

impl Network {
    /// Writes the posterior: `{p}.mu` and `{p}.rho` for every parameter (see the
    /// [crate docs](crate#checkpoints)). The prior is saved separately, with [`GaussianWeights::save`] on
    /// [`Network::prior`].
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save_posterior(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut tensors = Vec::new();
        for p in self.params() {
            tensors.push((format!("{}.mu", p.name()), p.mu().as_tensor().clone()));
            tensors.push((format!("{}.rho", p.name()), p.rho().as_tensor().clone()));
        }
        write(path.as_ref(), tensors, metadata(self.architecture(), self.family(), "posterior"))
    }

    /// A network with the given prior and the posterior read from `path`.
    ///
    /// # Errors
    /// As [`GaussianWeights::load`], for tensors `{p}.mu` and `{p}.rho`.
    pub fn load_posterior(prior: &GaussianWeights, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let architecture = prior.architecture();
        let (mut tensors, family) = read(path, architecture, prior.device())?;
        if family != prior.family() {
            return Err(Error::FamilyMismatch {
                path: path.to_path_buf(),
                expected: prior.family().to_string(),
                found: family.to_string(),
            });
        }
        let network = Network::from_prior(prior)?;
        let mut loaded = Vec::new();
        for (name, shape) in architecture.params() {
            let mu = take(&mut tensors, path, &format!("{name}.mu"), &shape)?;
            let rho = take(&mut tensors, path, &format!("{name}.rho"), &shape)?;
            loaded.push((mu, rho));
        }
        reject_leftovers(tensors, path, architecture)?;
        for (param, (mu, rho)) in network.params().zip(loaded) {
            param.set_posterior(&mu, &rho)?;
        }
        Ok(network)
    }
}
