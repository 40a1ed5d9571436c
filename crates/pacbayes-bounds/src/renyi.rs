//! The Rényi divergence between diagonal Gaussians, and the disintegrated bound that uses it.
//!
//! **The divergence** of order $\alpha > 1$, per coordinate (Gil, Alajaji & Linder, 2013):
//! $$D_\alpha\bigl(\mathcal N(\mu_q,\sigma_q^2)\,\|\,\mathcal N(\mu_p,\sigma_p^2)\bigr)
//! = \ln\frac{\sigma_p}{\sigma_q} - \frac{\ln s}{2(\alpha-1)} + \frac{\alpha(\mu_q-\mu_p)^2}{2 s\sigma_p^2},
//! \qquad s = \alpha + (1-\alpha)\frac{\sigma_q^2}{\sigma_p^2},$$
//! finite when $s > 0$ and $+\infty$ otherwise (Q then has heavier tails than $P^{\alpha}$ allows).
//! It is non-decreasing in α, equals KL(Q‖P) in the limit α → 1, and adds up over coordinates.
//!
//! **The bound** (Viallard, Germain, Habrard & Morvant, Machine Learning 2023, the Rényi form of
//! their disintegrated theorem, with $\varphi(h,S) = \exp(\frac{\alpha-1}{\alpha} n\,
//! \mathrm{kl}(\hat R_S(h)\|R(h)))$ and Maurer's $\mathbb E\,e^{n\,\mathrm{kl}} \le 2\sqrt n$). For
//! a prior P independent of S, any kernel $Q_S$ and α > 1, with probability at least $1-\delta$
//! over $S \sim \mathcal D^n$ and one $h \sim Q_S$,
//! $$\mathrm{kl}\bigl(\hat R_S(h)\,\|\,R(h)\bigr) \le \frac1n\Bigl[D_\alpha(Q_S\|P) +
//! \ln(2\sqrt n) + \frac{2\alpha-1}{\alpha-1}\ln\frac2\delta\Bigr].$$
//! Where the log density ratio $\ln\frac{dQ}{dP}(h)$ of one draw fluctuates around KL(Q‖P), this
//! form pays the divergence of the distributions instead, at the price of a larger confidence term.
//! A union-bound charge of $c$ nats runs the bound at $\delta e^{-c}$, so it enters multiplied by
//! $\frac{2\alpha-1}{\alpha-1}$. The order α must be fixed before S is seen; an α chosen among
//! several on S must be paid for like any other choice.

use crate::{Error, Result, check, kl_inv_upper};

pub(crate) fn order(alpha: f64) -> Result<f64> {
    if alpha > 1.0 && alpha.is_finite() {
        Ok(alpha)
    } else {
        Err(Error::InvalidValue { name: "alpha", value: alpha, expected: "a finite number > 1" })
    }
}

/// $D_\alpha$ for one coordinate, as computed; $+\infty$ when $\alpha\sigma_p^2 \le (\alpha-1)\sigma_q^2$.
///
/// # Errors
/// α not finite and > 1, a non-finite mean, or a scale that is not finite and positive.
///
/// ```
/// # use pacbayes_bounds::{kl_gaussian, renyi_gaussian};
/// let (kl, d2) = (kl_gaussian(0.3, 0.1, 0.0, 0.2)?, renyi_gaussian(2.0, 0.3, 0.1, 0.0, 0.2)?);
/// assert!(d2 >= kl);
/// # Ok::<(), pacbayes_bounds::Error>(())
/// ```
pub fn renyi_gaussian(alpha: f64, mu_q: f64, sigma_q: f64, mu_p: f64, sigma_p: f64) -> Result<f64> {
    Ok(renyi_terms(alpha, mu_q, sigma_q, mu_p, sigma_p)?.0)
}

/// $D_\alpha$ for one coordinate and the sum of the magnitudes of the terms it was computed from
/// (its rounding error is a few ε of that sum).
fn renyi_terms(alpha: f64, mu_q: f64, sigma_q: f64, mu_p: f64, sigma_p: f64) -> Result<(f64, f64)> {
    let alpha = order(alpha)?;
    let sigma_q = check::positive("sigma_q", sigma_q)?;
    let sigma_p = check::positive("sigma_p", sigma_p)?;
    for (name, mu) in [("mu_q", mu_q), ("mu_p", mu_p)] {
        if !mu.is_finite() {
            return Err(Error::InvalidValue { name, value: mu, expected: "a finite number" });
        }
    }
    // r − 1 = σ_q²/σ_p² − 1 and s − 1 = (1 − α)(r − 1), kept accurate when Q is close to P.
    let x = (sigma_q - sigma_p) / sigma_p;
    let r_minus_one = x * (2.0 + x);
    let s_minus_one = (1.0 - alpha) * r_minus_one;
    let s = 1.0 + s_minus_one;
    if s <= 0.0 {
        return Ok((f64::INFINITY, f64::INFINITY));
    }
    let z = (mu_q - mu_p) / sigma_p;
    let terms =
        [-0.5 * r_minus_one.ln_1p(), -s_minus_one.ln_1p() / (2.0 * (alpha - 1.0)), alpha * z * z / (2.0 * s)];
    let value: f64 = terms.iter().sum();
    Ok((value.max(0.0), terms.iter().map(|t| t.abs()).sum()))
}

/// $D_\alpha$ summed over coordinates of diagonal Gaussians given as parallel slices (compensated
/// summation), rounded up by $10^{-12}$ of the sum of the magnitudes of every term: never below the
/// exact divergence of the given numbers.
///
/// # Errors
/// Slices of different lengths, or any invalid coordinate (see [`renyi_gaussian`]).
pub fn renyi_diag_gaussian(
    alpha: f64,
    mu_q: &[f64],
    sigma_q: &[f64],
    mu_p: &[f64],
    sigma_p: &[f64],
) -> Result<f64> {
    sum_rounded_up([mu_q, sigma_q, mu_p, sigma_p], ["sigma_q", "mu_p", "sigma_p"], |i| {
        renyi_terms(alpha, mu_q[i], sigma_q[i], mu_p[i], sigma_p[i])
    })
}

/// The sum over coordinates of per-coordinate divergences `term(i)` = (value, magnitude of the
/// terms it was computed from), by compensated summation, rounded up by $10^{-12}$ of the summed
/// magnitudes; $+\infty$ as soon as one coordinate's is. The four slices (μ_q, s_q, μ_p, s_p) must
/// have equal lengths; `names` names the last three in an error.
pub(crate) fn sum_rounded_up(
    [mu_q, scale_q, mu_p, scale_p]: [&[f64]; 4],
    names: [&'static str; 3],
    term: impl Fn(usize) -> Result<(f64, f64)>,
) -> Result<f64> {
    let len = mu_q.len();
    let lengths = [scale_q.len(), mu_p.len(), scale_p.len()];
    for (name, other) in names.into_iter().zip(lengths) {
        if other != len {
            return Err(Error::LengthMismatch { name, len: other, reference: "mu_q", expected: len });
        }
    }
    let (mut sum, mut compensation, mut magnitude) = (0.0_f64, 0.0_f64, 0.0_f64);
    for i in 0..len {
        let (value, size) = term(i)?;
        if value.is_infinite() {
            return Ok(f64::INFINITY);
        }
        // Neumaier's summation: the error stays a few ε of the magnitude, whatever the length.
        let next = sum + value;
        compensation += if sum.abs() >= value.abs() { (sum - next) + value } else { (value - next) + sum };
        sum = next;
        magnitude += size;
    }
    Ok(sum + compensation + 1e-12 * magnitude)
}

/// The disintegrated bound in its Rényi form: $\mathrm{kl}^{-1}_{\uparrow}(\hat R_S(h), B)$ with
/// $B = \bigl[D_\alpha + \ln(2\sqrt n) + \frac{2\alpha-1}{\alpha-1}(\ln\frac2\delta + c)\bigr]/n$,
/// where $c$ = `charges_nats` (see the module documentation). $B$ is rounded upward; a divergence
/// of $+\infty$ gives 1.
///
/// # Errors
/// `emp_risk` outside [0, 1], a negative or NaN divergence, n = 0, δ ∉ (0, 1), α not finite and
/// > 1, or a negative charge.
///
/// ```
/// # use pacbayes_bounds::disintegrated_renyi_bound;
/// let bound = disintegrated_renyi_bound(0.02, 40.0, 30_000, 0.025, 2.0, 0.0)?;
/// assert!((bound - 0.030_070_8).abs() < 1e-6); // kl⁻¹(0.02, (40 + ln(2√n) + 3 ln 80)/n)
/// # Ok::<(), pacbayes_bounds::Error>(())
/// ```
pub fn disintegrated_renyi_bound(
    emp_risk: f64,
    divergence: f64,
    n: u64,
    delta: f64,
    alpha: f64,
    charges_nats: f64,
) -> Result<f64> {
    let emp_risk = check::probability("emp_risk", emp_risk)?;
    let divergence = check::non_negative("divergence", divergence)?;
    let n = check::count("n", n)?;
    let delta = check::open_unit("delta", delta)?;
    let alpha = order(alpha)?;
    let charges = check::finite_non_negative("charges_nats", charges_nats)?;
    if divergence.is_infinite() {
        return Ok(1.0);
    }
    let factor = check::round_up((2.0 * alpha - 1.0) / (alpha - 1.0));
    let confidence = std::f64::consts::LN_2 - delta.ln() + charges;
    let numerator = divergence + std::f64::consts::LN_2 + 0.5 * (n as f64).ln() + factor * confidence;
    kl_inv_upper(emp_risk, check::round_up(check::round_up(numerator) / n as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kl_gaussian;
    use approx::assert_relative_eq;

    /// $\frac{1}{\alpha-1}\ln\int q^\alpha p^{1-\alpha}$ by the trapezoid rule on a wide grid.
    fn by_quadrature(alpha: f64, mq: f64, sq: f64, mp: f64, sp: f64) -> f64 {
        let log_density = |x: f64, m: f64, s: f64| {
            -(x - m).powi(2) / (2.0 * s * s) - (s * (2.0 * std::f64::consts::PI).sqrt()).ln()
        };
        let (lo, hi, steps) = (-30.0, 30.0, 600_000);
        let h = (hi - lo) / steps as f64;
        let integral: f64 = (0..=steps)
            .map(|i| {
                let x = lo + i as f64 * h;
                let w = if i == 0 || i == steps { 0.5 } else { 1.0 };
                w * (alpha * log_density(x, mq, sq) + (1.0 - alpha) * log_density(x, mp, sp)).exp()
            })
            .sum::<f64>()
            * h;
        integral.ln() / (alpha - 1.0)
    }

    #[test]
    fn matches_numerical_integration() {
        for (alpha, mq, sq, mp, sp) in
            [(2.0, 0.3, 0.8, 0.0, 1.0), (1.5, -1.0, 1.2, 0.5, 1.0), (3.0, 0.1, 0.5, 0.0, 0.7)]
        {
            let closed = renyi_gaussian(alpha, mq, sq, mp, sp).unwrap();
            assert_relative_eq!(closed, by_quadrature(alpha, mq, sq, mp, sp), max_relative = 1e-8);
        }
    }

    #[test]
    fn tends_to_the_kl_and_grows_with_the_order() {
        let kl = kl_gaussian(0.3, 0.1, 0.0, 0.2).unwrap();
        let near = renyi_gaussian(1.0 + 1e-7, 0.3, 0.1, 0.0, 0.2).unwrap();
        assert_relative_eq!(near, kl, max_relative = 1e-5);
        let orders = [1.1, 1.5, 2.0, 4.0, 10.0];
        let values: Vec<f64> =
            orders.iter().map(|&a| renyi_gaussian(a, 0.3, 0.1, 0.0, 0.2).unwrap()).collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
        assert!(values[0] >= kl);
    }

    #[test]
    fn zero_at_the_prior_accurate_near_it_and_infinite_past_the_edge() {
        assert!(renyi_gaussian(2.0, 0.2, 0.1, 0.2, 0.1).unwrap().abs() < 1e-300);
        // σ_q = σ_p(1 + h): D_α ≈ α h² for small h.
        let h = 1e-6;
        assert_relative_eq!(
            renyi_gaussian(2.0, 0.0, 1.0 + h, 0.0, 1.0).unwrap(),
            2.0 * h * h,
            max_relative = 1e-4
        );
        // α = 2: finite iff σ_q² < 2σ_p².
        assert!(renyi_gaussian(2.0, 0.0, 1.41, 0.0, 1.0).unwrap().is_finite());
        assert!(renyi_gaussian(2.0, 0.0, 1.42, 0.0, 1.0).unwrap().is_infinite());
    }

    #[test]
    fn the_bound_is_the_kl_inverse_of_its_right_hand_side() {
        let (n, delta, alpha, d) = (30_000_u64, 0.025, 2.0, 40.0);
        let b = disintegrated_renyi_bound(0.02, d, n, delta, alpha, 0.0).unwrap();
        let rhs = (d + (2.0 * (n as f64).sqrt()).ln() + 3.0 * (2.0 / delta).ln()) / n as f64;
        assert!(crate::kl(0.02, b).unwrap() >= rhs * (1.0 - 1e-12));
        assert_relative_eq!(b, kl_inv_upper(0.02, rhs).unwrap(), max_relative = 1e-10);
        // A charge of c nats costs (2α − 1)/(α − 1) · c.
        let charged = disintegrated_renyi_bound(0.02, d, n, delta, alpha, 2.0).unwrap();
        assert_relative_eq!(
            charged,
            disintegrated_renyi_bound(0.02, d + 6.0, n, delta, alpha, 0.0).unwrap(),
            max_relative = 1e-12
        );
        assert!(
            (disintegrated_renyi_bound(0.02, f64::INFINITY, n, delta, alpha, 0.0).unwrap() - 1.0).abs()
                < 1e-300
        );
    }

    #[test]
    fn the_sum_over_coordinates_is_never_below_its_terms() {
        let mq: Vec<f64> = (0..10_000).map(|i| f64::from(i % 7) * 1e-3).collect();
        let (sq, mp, sp) = (vec![0.0101; 10_000], vec![0.0; 10_000], vec![0.01; 10_000]);
        let total = renyi_diag_gaussian(2.0, &mq, &sq, &mp, &sp).unwrap();
        let each: f64 = (0..10_000).map(|i| renyi_gaussian(2.0, mq[i], sq[i], mp[i], sp[i]).unwrap()).sum();
        assert!(total >= each && total <= each * (1.0 + 1e-10), "{total} vs {each}");
        let wide = [0.0101, 0.02];
        assert!(
            renyi_diag_gaussian(2.0, &[0.0, 0.0], &wide, &[0.0, 0.0], &[0.01, 0.01]).unwrap().is_infinite()
        );
        assert!(matches!(
            renyi_diag_gaussian(2.0, &[0.0], &[1.0, 1.0], &[0.0], &[1.0]),
            Err(Error::LengthMismatch { name: "sigma_q", .. })
        ));
    }

    #[test]
    fn bad_input_is_named() {
        let name = |r: Result<f64>| match r {
            Err(Error::InvalidValue { name, .. }) => name,
            Err(Error::ZeroCount { name }) => name,
            other => panic!("expected an error, got {other:?}"),
        };
        assert_eq!(name(renyi_gaussian(1.0, 0.0, 1.0, 0.0, 1.0)), "alpha");
        assert_eq!(name(renyi_gaussian(f64::NAN, 0.0, 1.0, 0.0, 1.0)), "alpha");
        assert_eq!(name(renyi_gaussian(2.0, 0.0, 0.0, 0.0, 1.0)), "sigma_q");
        assert_eq!(name(disintegrated_renyi_bound(0.1, -1.0, 10, 0.05, 2.0, 0.0)), "divergence");
        assert_eq!(name(disintegrated_renyi_bound(0.1, 1.0, 0, 0.05, 2.0, 0.0)), "n");
        assert_eq!(name(disintegrated_renyi_bound(0.1, 1.0, 10, 0.05, 0.5, 0.0)), "alpha");
        assert_eq!(name(disintegrated_renyi_bound(0.1, 1.0, 10, 0.05, 2.0, -1.0)), "charges_nats");
    }
}
