//! How large the last SGD step of a posterior run was, against the f32 spacing of the parameters it
//! moves, and how many ρ left their starting value.
//!
//! `cargo run --release -p pacbayes-posterior --example update_magnitudes -- RUN_DIR [LEARNING_RATE]`
//!
//! Reads `RUN_DIR/checkpoint/state.safetensors` (μ, ρ and the SGD velocities v, whose step is
//! lr·v) and `RUN_DIR/prior.safetensors` (σ_P, from which ρ started at softplus⁻¹(σ_P) in f32).
//! Prints, for μ and for ρ, the median |lr·v|, the median half spacing of f32 at the parameter
//! (a step below it is rounded away), the fraction of steps below it, and for ρ the fraction of
//! entries that differ from their start.

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use pacbayes_nn::inverse_softplus;

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("an f32 tensor")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Half the distance from x to the next f32 away from zero.
fn half_spacing(x: f32) -> f64 {
    let next = f32::from_bits(x.abs().to_bits() + 1);
    0.5 * (f64::from(next) - f64::from(x.abs()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let run = PathBuf::from(args.get(1).ok_or("usage: update_magnitudes RUN_DIR [LEARNING_RATE]")?);
    let lr: f64 = args.get(2).map_or(Ok(0.001), |s| s.parse())?;
    let state = candle_core::safetensors::load(run.join("checkpoint/state.safetensors"), &Device::Cpu)?;
    let prior = candle_core::safetensors::load(run.join("prior.safetensors"), &Device::Cpu)?;
    // The parameters in canonical order: layers.{i}.weight, layers.{i}.bias.
    let mut params: Vec<String> =
        state.keys().filter_map(|k| k.strip_suffix(".mu").map(str::to_owned)).collect();
    let key = |p: &String| {
        let layer: usize = p.split('.').nth(1).and_then(|i| i.parse().ok()).unwrap_or(0);
        (layer, p.ends_with(".bias"))
    };
    params.sort_by_key(key);
    let n = params.len();
    for (group, offset) in [("mu", 0), ("rho", n)] {
        let (mut steps, mut spacings, mut lost, mut total, mut moved) =
            (vec![], vec![], 0usize, 0usize, 0usize);
        for (i, p) in params.iter().enumerate() {
            let x = values(&state[&format!("{p}.{group}")]);
            let Some(v) = state.get(&format!("moments.0.{}", offset + i)) else {
                return Err("the checkpoint has no SGD velocities".into());
            };
            let v = values(v);
            for (&x, &v) in x.iter().zip(&v) {
                let (step, spacing) = ((lr * f64::from(v)).abs(), half_spacing(x));
                lost += usize::from(step < spacing);
                steps.push(step);
                spacings.push(spacing);
            }
            total += x.len();
            if group == "rho" {
                let start = values(&prior[&format!("{p}.sigma")]);
                moved += x
                    .iter()
                    .zip(&start)
                    .filter(|(r, s)| r.to_bits() != (inverse_softplus(f64::from(**s)) as f32).to_bits())
                    .count();
            }
        }
        println!(
            "{group}: {total} entries, median |lr v| {:.3e}, median half f32 spacing {:.3e}, steps below it {:.1}%{}",
            median(steps),
            median(spacings),
            100.0 * lost as f64 / total as f64,
            if group == "rho" {
                format!(", entries moved from the start {:.1}%", 100.0 * moved as f64 / total as f64)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
