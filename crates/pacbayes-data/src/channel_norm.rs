//! Per-channel normalization of images, fitted on the prior side of a split only.
//!
//! As for [`Standardizer`](crate::Standardizer), the mean and standard deviation of each colour
//! channel become part of every hypothesis, so they are computed on S_prior and its validation
//! slice, never on S_bound, and then applied to every part and to the test set. A split without a
//! prior side (α = 0) leaves the pixels as they are.

use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::split::Split;

/// Per-channel mean and scale of images (channels, height, width): `x ↦ (x − mean[c]) / scale[c]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelNormalizer {
    /// The mean of each channel over every pixel of the prior side.
    pub mean: Vec<f32>,
    /// The standard deviation of each channel over the prior side (1 where it is 0).
    pub scale: Vec<f32>,
}

impl ChannelNormalizer {
    /// Fits on the prior side of `split` (S_prior and the validation slice), never on S_bound.
    ///
    /// # Errors
    /// Examples that are not images (channels, height, width), or an empty prior side.
    pub fn fit(split: &Split) -> Result<Self> {
        let data = split.dataset();
        let (channels, plane) = image_shape(data)?;
        let rows: Vec<usize> = split.prior_side().collect();
        if rows.is_empty() {
            return Err(Error::EmptyPart { dataset: split.dataset_name().to_owned(), part: "prior" });
        }
        let (mut sum, mut sum_sq) = (vec![0.0f64; channels], vec![0.0f64; channels]);
        for &i in &rows {
            for (c, values) in data.row(i).chunks_exact(plane).enumerate() {
                for &x in values {
                    sum[c] += f64::from(x);
                    sum_sq[c] += f64::from(x) * f64::from(x);
                }
            }
        }
        let n = (rows.len() * plane) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let scale = sum_sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| (s / n - m * m).max(0.0).sqrt())
            .map(|s| if s > 0.0 { s as f32 } else { 1.0 })
            .collect();
        Ok(Self { mean: mean.iter().map(|&m| m as f32).collect(), scale })
    }

    /// Normalizes every image of `data` in place.
    ///
    /// # Errors
    /// Examples that are not images with as many channels as the normalizer.
    pub fn apply(&self, data: &mut Dataset) -> Result<()> {
        let (channels, plane) = image_shape(data)?;
        if channels != self.mean.len() {
            let reason = format!("{channels} channels, but the normalizer has {}", self.mean.len());
            return Err(Error::InvalidArgument { name: "channels", reason });
        }
        let d = data.n_features();
        for image in data.features_mut().chunks_exact_mut(d) {
            for ((values, m), s) in image.chunks_exact_mut(plane).zip(&self.mean).zip(&self.scale) {
                values.iter_mut().for_each(|x| *x = (*x - m) / s);
            }
        }
        Ok(())
    }
}

fn image_shape(data: &Dataset) -> Result<(usize, usize)> {
    match *data.shape() {
        [channels, h, w] => Ok((channels, h * w)),
        ref other => Err(Error::InvalidArgument {
            name: "shape",
            reason: format!("{other:?}: per-channel normalization needs images (channels, height, width)"),
        }),
    }
}

impl Split {
    /// Fits a [`ChannelNormalizer`] on the prior side, applies it to the whole training set and to
    /// `test`, and returns it; `None` (nothing changed) when the prior side is empty.
    ///
    /// # Errors
    /// Examples that are not images.
    pub fn normalize_channels(&mut self, test: &mut Dataset) -> Result<Option<ChannelNormalizer>> {
        if self.prior_side().next().is_none() {
            return Ok(None);
        }
        let norm = ChannelNormalizer::fit(self)?;
        norm.apply(test)?;
        norm.apply(self.dataset_mut())?;
        Ok(Some(norm))
    }
}
