//! Runtime choice of the instruction set for the elementwise passes of this crate: AVX2 with FMA
//! where the CPU has both, the target's baseline (SSE2 on x86-64) on other CPUs and on other
//! architectures. The binary is built for the baseline, so it runs on any CPU of its target, and
//! the passes still use 256-bit vectors where they can.
//!
//! Each pass is a loop over slices written once, as an `#[inline(always)]` function (`…_block`),
//! and called as `kernel!(block(…))`: [`run`] calls it from a copy of itself compiled with AVX2 and
//! FMA enabled, or from the baseline copy, and the loop is inlined into each. `multiversion` makes
//! the copies and picks one at the first call, with a cached CPU-feature check. The values do not
//! depend on the choice: Rust does not contract `a * b + c` into a fused multiply-add unless
//! `mul_add` is written (this crate never does), vectorizing a loop does not reorder its sums, and
//! the rest (division, square root, conversions, comparisons) is exact IEEE arithmetic either way.
//! The tests run every pass both ways and compare the bits; only NaN results may differ, in their
//! sign and payload, which IEEE 754 and Rust leave unspecified.

use std::sync::atomic::{AtomicBool, Ordering};

use multiversion::multiversion;

/// An instruction set the elementwise passes of this crate run with (see [`simd`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simd {
    /// The baseline of the target the binary was built for (SSE2 on x86-64).
    Baseline,
    /// AVX2 with FMA, on x86-64 CPUs that have both.
    Avx2Fma,
}

/// Set by [`force_baseline_simd`].
static BASELINE_FORCED: AtomicBool = AtomicBool::new(false);

/// The instruction set the elementwise passes run with now: AVX2 with FMA when the CPU has both
/// (detected at run time, or enabled at build time) and [`force_baseline_simd`] is off, else the
/// baseline.
///
/// ```
/// use pacbayes_nn::{Simd, force_baseline_simd, simd};
/// force_baseline_simd(true);
/// assert_eq!(simd(), Simd::Baseline);
/// force_baseline_simd(false);
/// # #[cfg(target_arch = "x86_64")]
/// if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
///     assert_eq!(simd(), Simd::Avx2Fma);
/// }
/// ```
pub fn simd() -> Simd {
    if BASELINE_FORCED.load(Ordering::Relaxed) { Simd::Baseline } else { detected() }
}

/// Makes the elementwise passes run their baseline code on any CPU (`true`), or the code for what
/// the CPU has again (`false`, the default). The results are the same bit for bit either way (NaN
/// results aside, whose sign and payload are unspecified): this is for timing one against the
/// other, in one process.
pub fn force_baseline_simd(on: bool) {
    BASELINE_FORCED.store(on, Ordering::Relaxed);
}

/// What [`dispatched`] runs with.
#[multiversion(targets("x86_64+avx2+fma"))]
fn detected() -> Simd {
    multiversion::target::match_target! {
        "x86_64+avx2+fma" => Simd::Avx2Fma,
        _ => Simd::Baseline,
    }
}

/// `pass()`, compiled for the instruction set [`simd`] names. `pass` must be an
/// `#[inline(always)]` closure (and what it calls `#[inline(always)]` too), so that its code is
/// compiled into each copy: a call that is not inlined runs baseline code.
#[inline(always)]
pub(crate) fn run<R>(mut pass: impl FnMut() -> R) -> R {
    if BASELINE_FORCED.load(Ordering::Relaxed) { pass() } else { dispatched(pass) }
}

/// `kernel!(block(...))`: the call, usually of an `#[inline(always)]` pass over slices, through
/// [`run`], so that its loop is compiled for the instruction set [`simd`] names.
macro_rules! kernel {
    ($pass:expr) => {
        $crate::dispatch::run(
            #[inline(always)]
            || $pass,
        )
    };
}
pub(crate) use kernel;

/// `pass()` from the copy of this function compiled for the CPU (multiversion's dispatcher).
///
/// `pass` is called as `FnMut`: for a closure that is `Fn` or `FnMut`, that is the closure's own
/// code, which is inlined. Called as `FnOnce`, it would go through a shim that is not
/// `#[inline(always)]`, and a large closure would be called out of line, compiled for the baseline.
#[multiversion(targets("x86_64+avx2+fma"))]
fn dispatched<R, F: FnMut() -> R>(mut pass: F) -> R {
    pass()
}

/// Test support: `pass()` compiled for the baseline and `pass()` from the copy compiled for the CPU
/// (AVX2 and FMA where it has them), whatever [`force_baseline_simd`] says. `pass` is an
/// `#[inline(always)]` closure, as for [`run`], passed by value (a closure that captures only shared
/// references is `Copy`): called through a reference, it would be called out of line, its code
/// compiled for the baseline.
#[cfg(test)]
pub(crate) fn both<R>(pass: impl Fn() -> R + Copy) -> (R, R) {
    (pass(), dispatched(pass))
}

/// Test support: a float whose results are compared bit for bit, except that any NaN equals any
/// other. IEEE 754 and Rust leave the sign and payload of a NaN produced by arithmetic unspecified:
/// x86 returns the first operand's NaN when both are NaN, and LLVM may swap the operands of a
/// commutative operation in one compilation and not in the other (the NaN inputs of the tests
/// come out as +NaN one way and −NaN the other).
#[cfg(test)]
pub(crate) trait SameBits: Copy + std::fmt::Debug {
    /// Equal bits, or both NaN.
    fn same_bits(self, other: Self) -> bool;
}

#[cfg(test)]
impl SameBits for f32 {
    fn same_bits(self, other: f32) -> bool {
        self.to_bits() == other.to_bits() || (self.is_nan() && other.is_nan())
    }
}

#[cfg(test)]
impl SameBits for f64 {
    fn same_bits(self, other: f64) -> bool {
        self.to_bits() == other.to_bits() || (self.is_nan() && other.is_nan())
    }
}

/// Test support: asserts that the outputs of a pass run both ways are the same ([`SameBits`]),
/// naming the first values that differ.
#[cfg(test)]
#[track_caller]
pub(crate) fn assert_same_bits<T: SameBits>(what: &str, base: &[T], fast: &[T]) {
    assert_eq!(base.len(), fast.len(), "{what}: lengths");
    let differ: Vec<usize> = (0..base.len()).filter(|&i| !base[i].same_bits(fast[i])).collect();
    let first: Vec<_> = differ.iter().take(8).map(|&i| (i, base[i], fast[i])).collect();
    assert!(
        differ.is_empty(),
        "{what}: {} of {} values differ; first (index, baseline, dispatched): {first:?}",
        differ.len(),
        base.len()
    );
}

/// Test support: edge values of an f32 input, ±0, subnormals, the extremes, ±∞ and NaN,
/// followed by `n` values spread over ±`scale` (a vectorized loop's body and its remainder both
/// see edge values when `n` is not a multiple of the vector width).
#[cfg(test)]
pub(crate) fn edge_values(n: usize, scale: f32, seed: u64) -> Vec<f32> {
    let mut values = vec![
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-40,
        -1e-40,
        f32::from_bits(1),
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        1.0,
        -1.0,
        88.0,
        -88.0,
        100.0,
        -100.0,
        1e30,
        -1e30,
    ];
    let mut noise = crate::Noise::new(seed);
    values.extend(noise.standard_normal(n).iter().map(|z| scale * z));
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a CPU with AVX2 and FMA the dispatcher picks them (so the tests that compare the two
    /// ways do compare two different compilations), and forcing the baseline works.
    #[test]
    fn the_cpu_features_are_detected_and_the_baseline_can_be_forced() {
        #[cfg(target_arch = "x86_64")]
        {
            let has =
                std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
            assert_eq!(detected() == Simd::Avx2Fma, has);
        }
        let squares = |x: &[f32]| {
            run(
                #[inline(always)]
                || x.iter().map(|v| v * v).collect::<Vec<f32>>(),
            )
        };
        let x = edge_values(1001, 3.0, 1);
        let fast = squares(&x);
        force_baseline_simd(true);
        assert_eq!(simd(), Simd::Baseline);
        let base = squares(&x);
        force_baseline_simd(false);
        assert_same_bits("squares", &base, &fast);
        eprintln!("elementwise passes run with {:?}", simd());
    }
}
