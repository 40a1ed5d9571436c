//! PAC-Bayes upper bounds on the risk of a Gibbs classifier.
//!
//! With $\hat r$ the empirical risk on the $n$ examples of the bound set, KL = KL(Q‖P) plus every
//! union-bound cost in nats, and $B = (\mathrm{KL} + \ln(2\sqrt n/\delta))/n$, each bound below holds
//! with probability at least $1-\delta$ over the bound set, for every posterior Q at once:
//!
//! | kind | bound | reference |
//! |---|---|---|
//! | `kl` | $\mathrm{kl}^{-1}_{\uparrow}(\hat r, B)$ | Maurer (2004), Langford & Seeger (2001) |
//! | `mcallester` | $\hat r + \sqrt{B/2}$ | McAllester (1999) |
//! | `quad` | $\bigl(\sqrt{\hat r + B/2} + \sqrt{B/2}\bigr)^2$ | Rivasplata et al. (2019) |
//! | `lambda` | $\min_{\lambda\in\Lambda} \frac{\hat r}{1-\lambda/2} + \frac{B_\Lambda}{\lambda(1-\lambda/2)}$ | Thiemann et al. (2017) |
//! | `catoni` | $\min_{C\in\mathcal C} \frac{1-\exp(-C\hat r - B'_{\mathcal C})}{1-e^{-C}}$ | Catoni (2007), Thm 1.2.6 |
//!
//! For the grids, $B_\Lambda$ charges $\ln|\Lambda|$ extra nats, and Catoni's
//! $B'_{\mathcal C} = (\mathrm{KL} + \ln(|\mathcal C|/\delta))/n$ (his bound has no $2\sqrt n$).
//! The λ-bound of Thiemann et al. holds for all λ ∈ (0, 2) at once, so its grid charge is
//! conservative; it is paid anyway so that every choice on the bound set has an explicit price.
//!
//! The closed forms are rounded outward by a few ulps and capped at 1 (a risk never exceeds 1), so
//! that floating-point rounding cannot make any of them optimistic; the kl bound uses the certified
//! inverse of [`kl_inv_upper`].

use serde::{Deserialize, Serialize};

use crate::union::Charge;
use crate::{BoundInputs, Error, Result, kl_inv_upper};

/// Which bound to compute, with the grid it optimizes over where it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundKind {
    /// kl-inversion bound (the tightest of the family).
    Kl,
    /// McAllester's square-root bound.
    McAllester,
    /// The quadratic bound ("f-quad").
    Quad,
    /// Thiemann et al.'s λ-bound, λ taken from a declared grid.
    Lambda(Grid),
    /// Catoni's bound, its constant taken from a declared grid.
    Catoni(Grid),
}

impl BoundKind {
    /// The short name used in CLI flags and JSON (`kl`, `mcallester`, `quad`, `lambda`, `catoni`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Kl => "kl",
            Self::McAllester => "mcallester",
            Self::Quad => "quad",
            Self::Lambda(_) => "lambda",
            Self::Catoni(_) => "catoni",
        }
    }

    /// The kind of that name, with the default grid ([`Grid::lambda_default`],
    /// [`Grid::catoni_default`]) where it needs one.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "kl" => Self::Kl,
            "mcallester" => Self::McAllester,
            "quad" => Self::Quad,
            "lambda" => Self::Lambda(Grid::lambda_default()),
            "catoni" => Self::Catoni(Grid::catoni_default()),
            _ => return None,
        })
    }

    /// The kind of that name with the given grid (None: the default grid); a grid given to a kind
    /// that has none is an error.
    ///
    /// # Errors
    /// An unknown name, a grid outside its domain, or a grid for `kl`, `mcallester` or `quad`.
    pub fn with_grid(name: &str, grid: Option<Vec<f64>>) -> Result<Self> {
        match (name, grid) {
            ("lambda", Some(g)) => Ok(Self::Lambda(Grid::lambda(g)?)),
            ("catoni", Some(g)) => Ok(Self::Catoni(Grid::catoni(g)?)),
            (_, Some(_)) if Self::from_name(name).is_some() => {
                Err(Error::Inconsistent { reason: format!("the {name} bound takes no grid") })
            }
            (_, _) => Self::from_name(name).ok_or_else(|| Error::Inconsistent {
                reason: format!(
                    "unknown bound kind {name:?}: expected kl, mcallester, quad, lambda or catoni"
                ),
            }),
        }
    }

    /// The grid of λ or C, for the kinds that have one.
    pub fn grid(&self) -> Option<&Grid> {
        match self {
            Self::Lambda(g) | Self::Catoni(g) => Some(g),
            _ => None,
        }
    }

    /// Evaluates the bound.
    pub fn evaluate(&self, inputs: &BoundInputs) -> RiskBound {
        match self {
            Self::Kl => RiskBound::plain(kl_bound(inputs)),
            Self::McAllester => RiskBound::plain(mcallester_bound(inputs)),
            Self::Quad => RiskBound::plain(quad_bound(inputs)),
            Self::Lambda(grid) => lambda_bound(inputs, grid),
            Self::Catoni(grid) => catoni_bound(inputs, grid),
        }
    }
}

/// A bound's value, and for the grid bounds the chosen parameter and what choosing it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskBound {
    /// The upper bound on the risk.
    pub value: f64,
    /// λ or C, for the grid bounds.
    pub parameter: Option<f64>,
    /// The union-bound charge paid for choosing `parameter` from its grid.
    pub charge: Option<Charge>,
}

impl RiskBound {
    fn plain(value: f64) -> Self {
        Self { value, parameter: None, charge: None }
    }
}

/// A non-empty, finite set of candidate values for a bound's free parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid(Vec<f64>);

impl Grid {
    /// A λ grid: values in (0, 2).
    ///
    /// # Errors
    /// An empty grid, or a value outside (0, 2).
    pub fn lambda(values: Vec<f64>) -> Result<Self> {
        Self::checked("lambda_grid", values, |x| x > 0.0 && x < 2.0, "every value must lie in (0, 2)")
    }

    /// A Catoni grid: finite values > 0.
    ///
    /// # Errors
    /// An empty grid, or a value that is not finite and positive.
    pub fn catoni(values: Vec<f64>) -> Result<Self> {
        Self::checked(
            "catoni_grid",
            values,
            |x| x > 0.0 && x.is_finite(),
            "every value must be finite and positive",
        )
    }

    /// 32 values of λ spaced geometrically from 0.01 to 1.9.
    pub fn lambda_default() -> Self {
        Self(geometric(0.01, 1.9, 32))
    }

    /// 32 values of C spaced geometrically from 0.01 to 100.
    pub fn catoni_default() -> Self {
        Self(geometric(0.01, 100.0, 32))
    }

    /// The candidate values.
    pub fn values(&self) -> &[f64] {
        &self.0
    }

    fn checked(name: &'static str, values: Vec<f64>, ok: impl Fn(f64) -> bool, reason: &str) -> Result<Self> {
        if values.is_empty() {
            return Err(Error::InvalidGrid { name, reason: "the grid is empty".into() });
        }
        if let Some(bad) = values.iter().find(|&&x| !ok(x)) {
            return Err(Error::InvalidGrid { name, reason: format!("{reason}; found {bad}") });
        }
        Ok(Self(values))
    }

    fn charge(&self, what: &str) -> Charge {
        Charge::choice(format!("{what} chosen from a grid of {}", self.0.len()), self.0.len() as u64)
            .expect("a checked grid is not empty")
    }
}

fn geometric(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let ratio = (hi / lo).ln() / (count - 1) as f64;
    (0..count).map(|i| lo * (ratio * i as f64).exp()).collect()
}

/// Rounds a computed closed-form bound outward (8ε relative) and caps it at 1.
fn outward(x: f64) -> f64 {
    crate::check::round_up(x).min(1.0)
}

/// $\mathrm{kl}^{-1}_{\uparrow}(\hat r, B)$.
pub fn kl_bound(inputs: &BoundInputs) -> f64 {
    kl_inv_upper(inputs.emp_risk(), inputs.complexity()).expect("checked inputs are in the domain")
}

/// $\hat r + \sqrt{B/2}$.
pub fn mcallester_bound(inputs: &BoundInputs) -> f64 {
    outward(inputs.emp_risk() + (inputs.complexity() / 2.0).sqrt())
}

/// $\bigl(\sqrt{\hat r + B/2} + \sqrt{B/2}\bigr)^2$.
pub fn quad_bound(inputs: &BoundInputs) -> f64 {
    let half = inputs.complexity() / 2.0;
    outward(((inputs.emp_risk() + half).sqrt() + half.sqrt()).powi(2))
}

/// The λ-bound at the best λ of `grid`, paying $\ln|\Lambda|$.
pub fn lambda_bound(inputs: &BoundInputs, grid: &Grid) -> RiskBound {
    let charge = grid.charge("lambda");
    let b = inputs.with_extra_nats(charge.cost_nats).complexity();
    let at = |lambda: f64| {
        let shrink = 1.0 - lambda / 2.0;
        inputs.emp_risk() / shrink + b / (lambda * shrink)
    };
    let (lambda, value) = argmin_over(grid, at);
    RiskBound { value: outward(value), parameter: Some(lambda), charge: Some(charge) }
}

/// Catoni's bound at the best C of `grid`, paying $\ln|\mathcal C|$.
pub fn catoni_bound(inputs: &BoundInputs, grid: &Grid) -> RiskBound {
    let charge = grid.charge("catoni C");
    let b = (inputs.kl() + charge.cost_nats - inputs.delta().ln()) / inputs.n() as f64;
    let at = |c: f64| (-(-c * inputs.emp_risk() - b).exp_m1()) / (-(-c).exp_m1());
    let (c, value) = argmin_over(grid, at);
    RiskBound { value: outward(value), parameter: Some(c), charge: Some(charge) }
}

fn argmin_over(grid: &Grid, f: impl Fn(f64) -> f64) -> (f64, f64) {
    grid.values()
        .iter()
        .map(|&x| (x, f(x)))
        .fold((f64::NAN, f64::INFINITY), |best, cur| if cur.1 < best.1 { cur } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(r: f64, kl: f64, n: u64) -> BoundInputs {
        BoundInputs::new(r, kl, n, 0.025).unwrap()
    }

    #[test]
    fn kl_bound_is_the_tightest_of_the_family() {
        for (r, kl, n) in [(0.02, 500.0, 30_000), (0.1, 20.0, 1_000), (0.0, 3.0, 100), (0.4, 1e3, 5_000)] {
            let i = inputs(r, kl, n);
            let klb = kl_bound(&i);
            assert!(klb >= r);
            assert!(klb <= mcallester_bound(&i) + 1e-15, "{r} {kl} {n}");
            assert!(klb <= quad_bound(&i) + 1e-15, "{r} {kl} {n}");
        }
    }

    #[test]
    fn more_data_or_less_kl_tightens_every_bound() {
        for kind in ["kl", "mcallester", "quad", "lambda", "catoni"] {
            let kind = BoundKind::from_name(kind).unwrap();
            let base = kind.evaluate(&inputs(0.05, 100.0, 10_000)).value;
            assert!(kind.evaluate(&inputs(0.05, 100.0, 20_000)).value < base, "{}", kind.name());
            assert!(kind.evaluate(&inputs(0.05, 50.0, 10_000)).value < base, "{}", kind.name());
        }
    }

    #[test]
    fn vacuous_bounds_are_capped_at_one() {
        let i = inputs(0.9, 1e6, 10);
        for kind in ["kl", "mcallester", "quad", "lambda", "catoni"] {
            let v = BoundKind::from_name(kind).unwrap().evaluate(&i).value;
            assert!(v <= 1.0 && v > 0.9, "{kind}: {v}");
        }
    }

    #[test]
    fn grid_bounds_pay_their_union_bound() {
        let grid = Grid::lambda(vec![1.0]).unwrap();
        let one = lambda_bound(&inputs(0.05, 100.0, 10_000), &grid);
        let grid4 = Grid::lambda(vec![1.0, 1.0, 1.0, 1.0]).unwrap();
        let four = lambda_bound(&inputs(0.05, 100.0, 10_000), &grid4);
        assert!(four.value > one.value);
        let cost = four.charge.unwrap().cost_nats;
        assert!((cost - 4f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn bad_grids_are_errors() {
        assert!(Grid::lambda(vec![]).is_err());
        assert!(Grid::lambda(vec![0.5, 2.0]).is_err());
        assert!(Grid::lambda(vec![f64::NAN]).is_err());
        assert!(Grid::catoni(vec![0.0]).is_err());
        assert!(Grid::catoni(vec![f64::INFINITY]).is_err());
    }

    #[test]
    fn names_round_trip() {
        for name in ["kl", "mcallester", "quad", "lambda", "catoni"] {
            assert_eq!(BoundKind::from_name(name).unwrap().name(), name);
        }
        assert!(BoundKind::from_name("seeger").is_none());
    }
}
