//! The trait every prior implements.

use candle_core::Device;
use pacbayes_bounds::Charge;
use pacbayes_nn::{Architecture, GaussianWeights};

use crate::Result;

/// A Gaussian prior P over the weights of a network.
///
/// A prior must not depend on S_bound, except through choices that are paid for: every such choice
/// (a scale from a grid, a checkpoint among several) is reported by [`Prior::charges`] and enters the
/// certificate as a union-bound cost.
pub trait Prior {
    /// The mean and scale of every parameter of `architecture`, in its canonical order.
    ///
    /// # Errors
    /// An architecture the prior was not built for, or a failure to build the tensors.
    fn weights(&self, architecture: Architecture, device: &Device) -> Result<GaussianWeights>;

    /// One line for reports and tables.
    fn description(&self) -> String;

    /// The union-bound charges for choices made in building the prior (none by default).
    fn charges(&self) -> Vec<Charge> {
        Vec::new()
    }
}

/// Checks that a prior built for `own` is asked for `own`.
pub(crate) fn same_architecture(own: Architecture, requested: Architecture) -> Result<()> {
    if own == requested {
        Ok(())
    } else {
        Err(crate::Error::ArchitectureMismatch { prior: own.to_string(), requested: requested.to_string() })
    }
}
