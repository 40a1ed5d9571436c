//! `pacbayes predict`: the classes the certified drawn network (`network.safetensors`) predicts.
//!
//! The input is either an IDX file of u8 images (`.idx`, `.idx3-ubyte`, optionally gzipped; any
//! name not ending in `.csv`), scaled to [0, 1] as the image datasets are, or a CSV file with a
//! header line and one example per row, whose columns are the features as the run's dataset gives
//! them (a column named `label` is ignored). One predicted class index per line goes to stdout.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use clap::Args;
use pacbayes_eval::{CertificateRecord, load_drawn, predicted};
use pacbayes_nn::Architecture;

use crate::exit::UsageError;
use pacbayes_pipeline::{CERTIFICATE_FILE, NETWORK_FILE};

#[derive(Debug, Args)]
pub(crate) struct PredictArgs {
    /// The run folder, with certificate.json and network.safetensors from `pacbayes certify`.
    #[arg(long)]
    run: PathBuf,
    /// An IDX images file, or a CSV file of features with a header line.
    #[arg(long)]
    input: PathBuf,
    /// Where the tensors live: cpu (default), cuda, cuda:N, metal or metal:N (a GPU needs a build
    /// with the `cuda` or `metal` feature).
    #[arg(long)]
    device: Option<String>,
}

pub(crate) fn run(args: PredictArgs) -> Result<()> {
    let device = crate::device::resolve(args.device.as_deref())?;
    let classes = predict(&args.run, &args.input, &device)?;
    let text: String = classes.iter().map(|c| format!("{c}\n")).collect();
    print!("{text}");
    Ok(())
}

/// The predicted classes of the examples in `input`, computed on `device`.
pub(crate) fn predict(run_dir: &Path, input: &Path, device: &Device) -> Result<Vec<usize>> {
    let (cert, net_file) = (run_dir.join(CERTIFICATE_FILE), run_dir.join(NETWORK_FILE));
    for file in [&cert, &net_file] {
        if !file.is_file() {
            return Err(UsageError(format!(
                "{}: missing; expected a run certified with `pacbayes certify --kind disintegrated|both`",
                file.display()
            ))
            .into());
        }
    }
    let record = CertificateRecord::read(&cert)?;
    let architecture: Architecture = record.architecture.parse()?;
    let network = crate::device::drawn_on(load_drawn(architecture, &net_file)?, device)?;
    let width = architecture.inputs();
    let features = if input.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        read_csv(input, width)?
    } else {
        let images = pacbayes_data::read_idx(input)?;
        let per_example: usize = images.dims.iter().skip(1).product();
        if per_example != width {
            return Err(UsageError(format!(
                "{}: {per_example} values per image, expected {width} for {architecture}",
                input.display()
            ))
            .into());
        }
        images.data.iter().map(|&p| f32::from(p) / 255.0).collect::<Vec<f32>>()
    };
    let n = features.len() / width;
    let x = Tensor::from_vec(features, (n, width), device)?;
    let logits = network.forward_mean(&x).with_context(|| format!("evaluating {}", net_file.display()))?;
    let rows = logits.to_vec2::<f32>()?;
    Ok(rows.iter().map(|r| predicted(r)).collect())
}

fn read_csv(path: &Path, width: usize) -> Result<Vec<f32>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().map(|h| h.split(',').map(str::trim).collect()).unwrap_or_default();
    let label = header.iter().position(|h| *h == "label");
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> =
            line.split(',').enumerate().filter(|(j, _)| Some(*j) != label).map(|(_, c)| c.trim()).collect();
        if cells.len() != width {
            return Err(UsageError(format!(
                "{}: line {}: {} features, expected {width}",
                path.display(),
                i + 2,
                cells.len()
            ))
            .into());
        }
        for c in cells {
            out.push(c.parse::<f32>().map_err(|_| {
                UsageError(format!("{}: line {}: {c:?} is not a number", path.display(), i + 2))
            })?);
        }
    }
    if out.is_empty() {
        return Err(UsageError(format!("{}: no examples after the header line", path.display())).into());
    }
    Ok(out)
}
