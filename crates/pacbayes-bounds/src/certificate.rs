//! A risk certificate: the Monte Carlo term, the union-bound ledger and the bound, put together.
//!
//! $$\hat e^{+} = \mathrm{kl}^{-1}_{\uparrow}\bigl(\hat e, \ln(2/\delta')/m\bigr),\qquad
//! \text{bound} = \mathrm{kl}^{-1}_{\uparrow}\Bigl(\hat e^{+},
//! \frac{\mathrm{KL}(Q\|P) + \sum_k \text{cost}_k + \ln(2\sqrt n/\delta)}{n}\Bigr),$$
//! which holds with probability at least $1 - \delta - \delta'$ (the other kinds replace the outer
//! inverse by their own formula).

use serde::{Deserialize, Serialize};

use crate::union::{Charge, Ledger};
use crate::{BoundInputs, BoundKind, Error, McTerm, Result};

/// Every quantity a certificate is computed from, and the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// The bound's kind (`kl`, `mcallester`, `quad`, `lambda`, `catoni`).
    pub kind: String,
    /// The estimate $\hat e$ of the empirical risk.
    pub emp_risk: f64,
    /// $\hat e^{+}$, equal to `emp_risk` when no Monte Carlo term is paid.
    pub emp_risk_upper: f64,
    /// m, when the empirical risk was estimated by sampling.
    pub mc_samples: Option<u64>,
    /// δ′, when the empirical risk was estimated by sampling.
    pub delta_mc: Option<f64>,
    /// KL(Q‖P) in nats.
    pub kl: f64,
    /// n = |S_bound|.
    pub n: u64,
    /// δ.
    pub delta: f64,
    /// Each union-bound charge paid for choices made on the bound set, with its reason.
    pub charges: Vec<Charge>,
    /// The grid of λ or C, for the grid bounds.
    pub grid: Option<Vec<f64>>,
    /// λ or C chosen from `grid`.
    pub parameter: Option<f64>,
    /// The charge for that choice.
    pub grid_charge: Option<Charge>,
    /// Every charge in nats: `charges` and `grid_charge`.
    pub union_cost_nats: f64,
    /// The certified upper bound on the risk of Q.
    pub bound: f64,
}

impl Certificate {
    /// Computes the certificate.
    ///
    /// `inputs.emp_risk()` is the estimate $\hat e$; `mc` says how it was sampled (None when it is
    /// exact); `ledger` holds the charges paid for choices made on the bound set.
    ///
    /// # Errors
    /// δ + δ′ ≥ 1.
    pub fn compute(
        inputs: &BoundInputs,
        mc: Option<McTerm>,
        kind: &BoundKind,
        ledger: &Ledger,
    ) -> Result<Self> {
        let delta_mc = mc.map(|m| m.delta_mc());
        let total = inputs.delta() + delta_mc.unwrap_or(0.0);
        if total >= 1.0 {
            return Err(Error::ConfidenceBudget { total });
        }
        let emp_risk_upper = match mc {
            Some(term) => term.upper(inputs.emp_risk())?,
            None => inputs.emp_risk(),
        };
        let paid = inputs.with_emp_risk(emp_risk_upper).with_extra_nats(ledger.total_nats());
        let risk = kind.evaluate(&paid);
        let grid_cost = risk.charge.as_ref().map_or(0.0, |c| c.cost_nats);
        Ok(Self {
            kind: kind.name().to_owned(),
            emp_risk: inputs.emp_risk(),
            emp_risk_upper,
            mc_samples: mc.map(|m| m.samples()),
            delta_mc,
            kl: inputs.kl(),
            n: inputs.n(),
            delta: inputs.delta(),
            charges: ledger.charges().to_vec(),
            grid: kind.grid().map(|g| g.values().to_vec()),
            parameter: risk.parameter,
            grid_charge: risk.charge,
            union_cost_nats: ledger.total_nats() + grid_cost,
            bound: risk.value,
        })
    }

    /// Recomputes the certificate from its recorded inputs and checks every derived quantity.
    ///
    /// # Errors
    /// An input outside its domain, or [`Error::Mismatch`] naming the first field whose recorded
    /// value differs from the recomputed one by more than $10^{-12}$ (relative), or a bound below
    /// the empirical risk it bounds.
    pub fn verify(&self) -> Result<()> {
        let inputs = BoundInputs::new(self.emp_risk, self.kl, self.n, self.delta)?;
        let mc = match (self.mc_samples, self.delta_mc) {
            (Some(m), Some(d)) => Some(McTerm::new(m, d)?),
            (None, None) => None,
            _ => {
                return Err(Error::Inconsistent {
                    reason: "mc_samples and delta_mc must be given together".into(),
                });
            }
        };
        let kind = BoundKind::with_grid(&self.kind, self.grid.clone())?;
        let ledger: Ledger = self
            .charges
            .iter()
            .cloned()
            .map(|c| Charge::nats(c.reason, c.cost_nats))
            .collect::<Result<_>>()?;
        let again = Self::compute(&inputs, mc, &kind, &ledger)?;
        for (field, recorded, recomputed) in [
            ("emp_risk_upper", self.emp_risk_upper, again.emp_risk_upper),
            ("union_cost_nats", self.union_cost_nats, again.union_cost_nats),
            ("parameter", self.parameter.unwrap_or(0.0), again.parameter.unwrap_or(0.0)),
            ("bound", self.bound, again.bound),
        ] {
            let close = (recorded - recomputed).abs() <= 1e-12 * recomputed.abs().max(1e-300);
            if !close {
                return Err(Error::Mismatch { field, recorded, recomputed });
            }
        }
        if self.grid_charge != again.grid_charge {
            return Err(Error::Inconsistent {
                reason: "grid_charge differs from the charge for the grid".into(),
            });
        }
        let ordered = self.emp_risk <= self.emp_risk_upper && self.emp_risk_upper <= self.bound;
        if !ordered {
            return Err(Error::Inconsistent {
                reason: "the bound must not lie below the empirical risk".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mc_term_and_the_ledger_are_paid() {
        let inputs = BoundInputs::new(0.024, 400.0, 30_000, 0.025).unwrap();
        let plain = Certificate::compute(&inputs, None, &BoundKind::Kl, &Ledger::new()).unwrap();
        let mc = McTerm::new(1_000, 0.01).unwrap();
        let sampled = Certificate::compute(&inputs, Some(mc), &BoundKind::Kl, &Ledger::new()).unwrap();
        let mut ledger = Ledger::new();
        ledger.pay(Charge::choice("prior scale", 8).unwrap());
        let charged = Certificate::compute(&inputs, Some(mc), &BoundKind::Kl, &ledger).unwrap();
        assert!(plain.bound < sampled.bound && sampled.bound < charged.bound);
        assert!(sampled.emp_risk_upper > 0.024);
        assert!((plain.emp_risk_upper - 0.024).abs() < 1e-300);
        assert!((charged.union_cost_nats - 8f64.ln()).abs() < 1e-15);
        for cert in [plain, sampled, charged] {
            cert.verify().unwrap();
        }
    }

    #[test]
    fn verify_rejects_tampering() {
        let inputs = BoundInputs::new(0.05, 100.0, 10_000, 0.025).unwrap();
        let mc = Some(McTerm::new(1_000, 0.01).unwrap());
        let kind = BoundKind::from_name("lambda").unwrap();
        let cert = Certificate::compute(&inputs, mc, &kind, &Ledger::new()).unwrap();
        cert.verify().unwrap();
        let tamper: [fn(&mut Certificate); 9] = [
            |c| c.bound *= 0.999,
            |c| c.n += 1,
            |c| c.kl -= 1.0,
            |c| c.emp_risk_upper = c.emp_risk,
            |c| c.delta = 1.5,
            |c| c.mc_samples = None,
            |c| c.union_cost_nats = 0.0,
            |c| c.grid = Some(vec![1.0]),
            |c| c.kind = "kl".into(),
        ];
        for (i, t) in tamper.iter().enumerate() {
            let mut bad = cert.clone();
            t(&mut bad);
            assert!(bad.verify().is_err(), "tampering {i} went unnoticed");
        }
    }

    #[test]
    fn the_confidence_budget_must_leave_room() {
        let inputs = BoundInputs::new(0.1, 1.0, 100, 0.6).unwrap();
        let mc = McTerm::new(10, 0.5).unwrap();
        assert!(matches!(
            Certificate::compute(&inputs, Some(mc), &BoundKind::Kl, &Ledger::new()),
            Err(Error::ConfidenceBudget { .. })
        ));
    }
}
