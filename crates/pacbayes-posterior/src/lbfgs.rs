//! Full-batch training with argmin's L-BFGS, for small problems (a linear model on tabular data):
//! the objective over all the training data with the same noise draws at every evaluation, so that
//! it is a deterministic, smooth function of (μ, ρ) flattened into one `Vec<f64>`.

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use candle_core::{Tensor, Var};
use pacbayes_data::{Batch, Split};
use pacbayes_nn::{Network, Noise};

use crate::problem::PosteriorProblem;
use crate::settings::CheckedSettings;
use crate::{Error, Result};

/// The objective over the full training set as a function of the flattened variables
/// ([`Network::vars`] order), with noise seeded by the settings' seed at every evaluation and the
/// examples in index order, as the minibatch solver sees them with `fixed_noise` and a batch that
/// holds every example.
pub struct FullBatchObjective<'a> {
    problem: PosteriorProblem<'a>,
    batch: Batch,
    vars: Vec<Var>,
}

impl<'a> FullBatchObjective<'a> {
    /// The full-batch objective of `net` on `split`.
    ///
    /// # Errors
    /// Empty training data.
    pub fn new(net: &'a Network, split: &'a Split, settings: &CheckedSettings) -> Result<Self> {
        let problem = PosteriorProblem::new(net, split, settings)?;
        let positions: Vec<usize> = (0..problem.data().len()).collect();
        let batch = problem.data().gather(&positions);
        Ok(Self { problem, batch, vars: net.vars() })
    }

    /// The current variables, flattened.
    ///
    /// # Errors
    /// Only on a candle failure.
    pub fn flat(&self) -> Result<Vec<f64>> {
        let mut out = Vec::new();
        for v in &self.vars {
            out.extend(v.as_tensor().flatten_all()?.to_vec1::<f32>()?.into_iter().map(f64::from));
        }
        Ok(out)
    }

    /// Sets the variables from a flattened vector.
    ///
    /// # Errors
    /// A vector of the wrong length, or a candle failure.
    pub fn set_flat(&self, flat: &[f64]) -> Result<()> {
        let total: usize = self.vars.iter().map(|v| v.elem_count()).sum();
        if flat.len() != total {
            return Err(Error::Solver(format!("{} values for {total} parameters", flat.len())));
        }
        let mut at = 0;
        for v in &self.vars {
            let n = v.elem_count();
            let values: Vec<f32> = flat[at..at + n].iter().map(|&x| x as f32).collect();
            v.set(&Tensor::from_vec(values, v.shape(), v.device())?)?;
            at += n;
        }
        Ok(())
    }

    fn terms(&self, param: &[f64]) -> Result<crate::problem::StepTerms> {
        self.set_flat(param)?;
        let mut noise = Noise::new(self.problem.settings().settings().seed);
        self.problem.terms(&self.batch, &mut noise)
    }
}

impl CostFunction for FullBatchObjective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, param: &Vec<f64>) -> std::result::Result<f64, ArgminError> {
        let terms = self.terms(param)?;
        Ok(f64::from(terms.objective.to_scalar::<f32>()?))
    }
}

impl Gradient for FullBatchObjective<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, param: &Vec<f64>) -> std::result::Result<Vec<f64>, ArgminError> {
        let terms = self.terms(param)?;
        let grads = terms.objective.backward()?;
        let mut out = Vec::with_capacity(param.len());
        for v in &self.vars {
            match grads.get(v.as_tensor()) {
                Some(g) => out.extend(g.flatten_all()?.to_vec1::<f32>()?.into_iter().map(f64::from)),
                None => out.extend(std::iter::repeat_n(0.0, v.elem_count())),
            }
        }
        Ok(out)
    }
}

/// What an L-BFGS run reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsOutcome {
    /// The best full-batch objective found.
    pub objective: f64,
    /// Iterations done.
    pub iterations: u64,
}

/// Minimizes the full-batch objective of `net` on `split` with L-BFGS (memory 7, Moré–Thuente line
/// search) for at most `max_iters` iterations, and leaves the best point in the network's variables.
///
/// # Errors
/// Empty training data, a failure of the line search or of candle.
pub fn train_lbfgs(
    net: &Network,
    split: &Split,
    settings: &CheckedSettings,
    max_iters: u64,
) -> Result<LbfgsOutcome> {
    let objective = FullBatchObjective::new(net, split, settings)?;
    let start = objective.flat()?;
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-7)
        .and_then(|s| s.with_tolerance_cost(0.0))
        .map_err(Error::from_argmin)?;
    let result = Executor::new(objective, solver)
        .configure(|state| state.param(start).max_iters(max_iters))
        .ctrlc(false)
        .run()
        .map_err(Error::from_argmin)?;
    let best =
        result.state.get_best_param().cloned().ok_or_else(|| Error::Solver("no point found".into()))?;
    let objective =
        result.problem.problem.as_ref().ok_or_else(|| Error::Solver("the problem is missing".into()))?;
    objective.set_flat(&best)?;
    Ok(LbfgsOutcome { objective: result.state.get_best_cost(), iterations: result.state.get_iter() })
}
