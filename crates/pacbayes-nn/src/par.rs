//! Elementwise passes over parameter-sized slices, split across rayon's threads in chunks of a
//! fixed length, so that results (sums included) do not depend on the number of threads or on how
//! the work was stolen.

use rayon::prelude::*;

/// Values per chunk: large enough that a chunk outweighs its scheduling, small enough that the
/// ~500k-value weights of the MNIST FCN split over a few threads.
pub(crate) const CHUNK: usize = 1 << 15;

/// Fills `out` with `f(start, chunk)` for each chunk of `out`, where `start` is the chunk's offset
/// in `out` (for slicing the inputs alike).
pub(crate) fn fill<T: Send>(out: &mut [T], f: impl Fn(usize, &mut [T]) + Sync) {
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(i, chunk)| f(i * CHUNK, chunk));
}

/// As [`fill`] for two outputs of equal lengths, chunked alike.
pub(crate) fn fill2(a: &mut [f32], b: &mut [f32], f: impl Fn(usize, &mut [f32], &mut [f32]) + Sync) {
    let chunks = a.par_chunks_mut(CHUNK).zip(b.par_chunks_mut(CHUNK));
    chunks.enumerate().for_each(|(i, (a, b))| f(i * CHUNK, a, b));
}

/// A vector of `n` values computed by [`fill`].
pub(crate) fn map(n: usize, f: impl Fn(usize, &mut [f32]) + Sync) -> Vec<f32> {
    let mut out = vec![0.0; n];
    fill(&mut out, f);
    out
}

/// Σ f(start, len) over the chunks of `0..n`, the partial sums added in chunk order.
pub(crate) fn sum(n: usize, f: impl Fn(usize, usize) -> f64 + Sync) -> f64 {
    let starts: Vec<usize> = (0..n).step_by(CHUNK).collect();
    let partial: Vec<f64> = starts.par_iter().map(|&start| f(start, CHUNK.min(n - start))).collect();
    partial.iter().sum()
}

/// The first value of `s` in chunk order that is not finite, if any (a NaN or an infinity), found
/// by scanning the chunks in parallel.
pub(crate) fn first_non_finite(s: &[f32]) -> Option<f32> {
    let flagged: Vec<Option<f32>> =
        s.par_chunks(CHUNK).map(|chunk| chunk.iter().copied().find(|v| !v.is_finite())).collect();
    flagged.into_iter().flatten().next()
}

/// The `len` values of `s` from `start`.
#[inline]
pub(crate) fn at<T>(s: &[T], start: usize, len: usize) -> &[T] {
    &s[start..start + len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_index_once_and_sums_are_in_order() {
        let n = 3 * CHUNK + 17;
        let v = map(n, |start, out| {
            for (i, o) in out.iter_mut().enumerate() {
                *o = (start + i) as f32;
            }
        });
        assert!(v.iter().enumerate().all(|(i, &x)| (x - i as f32).abs() < 0.5));
        let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
        fill2(&mut a, &mut b, |start, a, b| {
            a.iter_mut().zip(b).enumerate().for_each(|(i, (a, b))| (*a, *b) = ((start + i) as f32, 1.0));
        });
        assert_eq!(a, v);
        let total = sum(n, |start, len| at(&b, start, len).iter().map(|&x| f64::from(x)).sum());
        assert!((total - n as f64).abs() < 0.5);
        assert!(sum(0, |_, _| 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn the_first_non_finite_value_is_found_in_any_chunk() {
        let mut v = vec![1.0_f32; 3 * CHUNK + 17];
        assert_eq!(first_non_finite(&v), None);
        assert_eq!(first_non_finite(&[]), None);
        v[3 * CHUNK + 5] = f32::NEG_INFINITY;
        assert_eq!(first_non_finite(&v), Some(f32::NEG_INFINITY));
        v[CHUNK + 1] = f32::NAN;
        assert!(first_non_finite(&v).is_some_and(f32::is_nan), "the first in chunk order");
    }
}
