//! Random translations and horizontal flips of training images (of any number of channels): the
//! data augmentation of prior fitting. A translation by up to `k` pixels with zeros shifted in is
//! a random crop of the image padded with `k` zeros on each side.
//!
//! Only the prior's ERM sees augmented images, and only images of S_prior: the prior stays
//! independent of S_bound, so augmentation costs nothing in the bound.

use pacbayes_data::{Batch, PriorSet};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::{Error, Result};

/// The augmented minibatches of S_prior: the examples at the given positions, shifted and then
/// flipped as asked, each transform drawing from its own random stream.
pub(crate) struct Augmented<'a> {
    prior: PriorSet<'a>,
    shift: Option<(Shift, ChaCha8Rng)>,
    flip: Option<(Flip, ChaCha8Rng)>,
}

impl<'a> Augmented<'a> {
    /// Shifts by up to `max_shift` pixels (none when 0) drawn from `shift_rng`, and horizontal
    /// flips (when `flip`) drawn from `flip_rng`.
    ///
    /// # Errors
    /// An augmentation that does not fit the examples' shape (see [`Shift::new`], [`Flip::new`]).
    pub(crate) fn new(
        prior: PriorSet<'a>,
        max_shift: usize,
        shift_rng: ChaCha8Rng,
        flip: bool,
        flip_rng: ChaCha8Rng,
    ) -> Result<Self> {
        let shift = Shift::new(max_shift, prior.shape())?.map(|s| (s, shift_rng));
        let flip = if flip { Some((Flip::new(prior.shape())?, flip_rng)) } else { None };
        Ok(Self { prior, shift, flip })
    }

    /// The examples at `positions` of S_prior, augmented.
    pub(crate) fn batch(&mut self, positions: &[usize]) -> Batch {
        let mut batch = self.prior.gather(positions);
        if let Some((shift, rng)) = &mut self.shift {
            shift.apply(&mut batch.features, rng);
        }
        if let Some((flip, rng)) = &mut self.flip {
            flip.apply(&mut batch.features, rng);
        }
        batch
    }
}

/// Shifts of every image of a batch by up to `max_shift` pixels in each direction, drawn uniformly
/// and independently per image; pixels shifted in are 0 (MNIST's background).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shift {
    max_shift: usize,
    channels: usize,
    height: usize,
    width: usize,
}

impl Shift {
    /// Shifts for examples of shape `shape` = (channels, height, width); `None` when `max_shift`
    /// is 0.
    ///
    /// # Errors
    /// A positive `max_shift` for examples that are not images, or one at least half the image.
    pub(crate) fn new(max_shift: usize, shape: &[usize]) -> Result<Option<Self>> {
        if max_shift == 0 {
            return Ok(None);
        }
        let &[channels, height, width] = shape else {
            return Err(Error::InvalidSetting {
                name: "shift",
                value: format!("{max_shift} (examples of shape {shape:?})"),
                expected: "0 for examples that are not images (channels, height, width)",
            });
        };
        if 2 * max_shift >= height.min(width) {
            return Err(Error::InvalidSetting {
                name: "shift",
                value: format!("{max_shift} (images of {height}×{width})"),
                expected: "less than half the image's height and width",
            });
        }
        Ok(Some(Self { max_shift, channels, height, width }))
    }

    /// Shifts each image of `features` (images one after the other) in place.
    pub(crate) fn apply(&self, features: &mut [f32], rng: &mut impl Rng) {
        let (h, w) = (self.height, self.width);
        let m = self.max_shift as i64;
        let mut source = vec![0.0f32; h * w];
        for image in features.chunks_exact_mut(self.channels * h * w) {
            let (dy, dx) = (rng.random_range(-m..=m) as isize, rng.random_range(-m..=m) as isize);
            for plane in image.chunks_exact_mut(h * w) {
                source.copy_from_slice(plane);
                translate(&source, plane, h, w, dy, dx);
            }
        }
    }
}

/// Horizontal flips of every image of a batch, each with probability ½, drawn independently per
/// image; every channel of an image is mirrored alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flip {
    image: usize,
    width: usize,
}

impl Flip {
    /// Flips for examples of shape `shape` = (channels, height, width).
    ///
    /// # Errors
    /// Examples that are not images.
    pub(crate) fn new(shape: &[usize]) -> Result<Self> {
        match *shape {
            [channels, height, width] => Ok(Self { image: channels * height * width, width }),
            _ => Err(Error::InvalidSetting {
                name: "flip",
                value: format!("true (examples of shape {shape:?})"),
                expected: "false for examples that are not images (channels, height, width)",
            }),
        }
    }

    /// Mirrors each image of `features` (images one after the other) left to right with
    /// probability ½, in place.
    pub(crate) fn apply(&self, features: &mut [f32], rng: &mut impl Rng) {
        for image in features.chunks_exact_mut(self.image) {
            if rng.random_bool(0.5) {
                image.chunks_exact_mut(self.width).for_each(<[f32]>::reverse);
            }
        }
    }
}

/// `out[y][x] = source[y - dy][x - dx]`, 0 outside the image.
fn translate(source: &[f32], out: &mut [f32], h: usize, w: usize, dy: isize, dx: isize) {
    for y in 0..h {
        let row = &mut out[y * w..(y + 1) * w];
        let from = y as isize - dy;
        if !(0..h as isize).contains(&from) {
            row.fill(0.0);
            continue;
        }
        let src = &source[from as usize * w..(from as usize + 1) * w];
        for (x, value) in row.iter_mut().enumerate() {
            let from = x as isize - dx;
            *value = if (0..w as isize).contains(&from) { src[from as usize] } else { 0.0 };
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn translate_moves_pixels_and_fills_with_zero() {
        // 3×3 image 1..9, shifted one down and one left.
        let source: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut out = vec![-1.0; 9];
        translate(&source, &mut out, 3, 3, 1, -1);
        assert_eq!(out, vec![0.0, 0.0, 0.0, 2.0, 3.0, 0.0, 5.0, 6.0, 0.0]);
        translate(&source, &mut out, 3, 3, 0, 0);
        assert_eq!(out, source);
    }

    #[test]
    fn shifts_keep_mass_inside_and_are_seeded() {
        // A single lit pixel in the centre of a 9×9 image stays lit, within 2 pixels of the centre.
        let shift = Shift::new(2, &[1, 9, 9]).unwrap().unwrap();
        let mut images = vec![0.0f32; 81 * 50];
        for image in images.chunks_exact_mut(81) {
            image[4 * 9 + 4] = 1.0;
        }
        let mut again = images.clone();
        shift.apply(&mut images, &mut ChaCha8Rng::seed_from_u64(3));
        shift.apply(&mut again, &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(images, again);
        let mut moved = 0;
        for image in images.chunks_exact(81) {
            let lit: Vec<usize> = (0..81).filter(|&i| image[i] > 0.5).collect();
            assert_eq!(lit.len(), 1);
            let (y, x) = (lit[0] / 9, lit[0] % 9);
            assert!(y.abs_diff(4) <= 2 && x.abs_diff(4) <= 2, "({y}, {x})");
            moved += usize::from(lit[0] != 40);
        }
        assert!(moved > 30, "only {moved} of 50 images moved");
    }

    #[test]
    fn non_images_and_large_shifts_are_rejected() {
        assert!(Shift::new(0, &[4]).unwrap().is_none());
        assert!(Shift::new(1, &[4]).is_err());
        assert!(Shift::new(14, &[1, 28, 28]).is_err());
        assert!(Shift::new(2, &[1, 28, 28]).unwrap().is_some());
    }

    #[test]
    fn flips_mirror_every_channel_of_about_half_the_images() {
        // 200 images of 3 channels, 2×4 pixels, each value distinct within an image.
        let flip = Flip::new(&[3, 2, 4]).unwrap();
        let original: Vec<f32> = (0..200 * 24).map(|i| (i % 24) as f32).collect();
        let mut images = original.clone();
        flip.apply(&mut images, &mut ChaCha8Rng::seed_from_u64(5));
        let mut flipped = 0;
        for (after, before) in images.chunks_exact(24).zip(original.chunks_exact(24)) {
            if after == before {
                continue;
            }
            flipped += 1;
            for (a, b) in after.chunks_exact(4).zip(before.chunks_exact(4)) {
                assert_eq!(a, [b[3], b[2], b[1], b[0]]);
            }
        }
        // Binomial(200, ½) has standard deviation √50 ≈ 7.1: ±25 is 3.5 of them.
        assert!((75..=125).contains(&flipped), "{flipped} of 200 images flipped");
        assert!(Flip::new(&[784]).is_err());
    }

    #[test]
    fn shifts_move_every_channel_of_a_colour_image_alike() {
        let shift = Shift::new(4, &[3, 32, 32]).unwrap().unwrap();
        let mut image = vec![0.0f32; 3 * 1024];
        for c in 0..3 {
            image[c * 1024 + 16 * 32 + 16] = 1.0 + c as f32;
        }
        shift.apply(&mut image, &mut ChaCha8Rng::seed_from_u64(9));
        let lit: Vec<usize> = (0..3 * 1024).filter(|&i| image[i] > 0.5).collect();
        assert_eq!(lit.len(), 3);
        assert_eq!((lit[1] - 1024, lit[2] - 2048), (lit[0], lit[0]));
        assert!((image[lit[2]] - 3.0).abs() < f32::EPSILON);
    }
}
