//! The architectures of the experiments, as ordered lists of Gaussian layers with what follows each.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// The names [`Architecture::from_str`] accepts, in words (used in error messages).
const ACCEPTED: &str =
    "fcn, cnn, cnn6, fcn-binary (or mlp600), cnn9, cnn13, cnn15, linear-{inputs}-{classes}";

/// A network architecture. Every layer is Gaussian; the number of Gaussian layers fixes the
/// parameter names `layers.{i}.weight` and `layers.{i}.bias`, i = 0, 1, ...
///
/// ```
/// use pacbayes_nn::Architecture;
/// let fcn: Architecture = "fcn".parse()?;
/// assert_eq!(fcn.num_params(), 784 * 600 + 600 + 2 * (600 * 600 + 600) + 600 * 10 + 10);
/// assert_eq!("linear-54-7".parse::<Architecture>()?, Architecture::Linear { inputs: 54, classes: 7 });
/// assert_eq!(Architecture::Cnn.to_string(), "cnn");
/// # Ok::<(), pacbayes_nn::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Architecture {
    /// The FCN of Pérez-Ortiz et al.: 784-600-600-600-10 with ReLU (`fcn`).
    Fcn,
    /// Their 4-layer MNIST CNN (`cnn`): conv 1→32 3×3, ReLU, conv 32→64 3×3, ReLU, max-pool 2,
    /// flatten, fc 9216→128, ReLU, fc 128→10.
    Cnn,
    /// A deeper MNIST CNN (`cnn6`), VGG-style, with 3×3 convolutions padded by 1: conv 1→32, ReLU,
    /// max-pool 2 (28 → 14), conv 32→64, ReLU, conv 64→64, ReLU, max-pool 2 (14 → 7), conv 64→128,
    /// ReLU, flatten, fc 6272→128, ReLU, fc 128→10. It costs about 1.3 times the `cnn`'s
    /// multiply-adds per example and has fewer parameters (0.9 million against 1.2 million).
    Cnn6,
    /// One hidden layer of 600 ReLU units and 2 outputs, for binary MNIST as in Dziugaite & Roy
    /// (`fcn-binary`, also `mlp600`).
    FcnBinary,
    /// The 9-layer CIFAR-10 CNN of Pérez-Ortiz et al. (2021) for 3×32×32 inputs (`cnn9`): six 3×3
    /// convolutions with padding 1 (3→32→64, pool, →128→128, pool, →256→256, pool), then fully
    /// connected 4096→1024→512→10, ReLU after every layer but the last.
    Cnn9,
    /// Their 13-layer CIFAR-10 CNN (`cnn13`): ten 3×3 convolutions with padding 1 (3→32→64, pool,
    /// →128→128, pool, →256→256→256, pool, →512→512→512, pool), then 2048→1024→512→10.
    Cnn13,
    /// Their 15-layer CIFAR-10 CNN (`cnn15`): twelve 3×3 convolutions with padding 1 (3→32→64, pool,
    /// →128→128, pool, →256→256→256→256, pool, →512→512→512→512, pool), then 2048→1024→512→10.
    Cnn15,
    /// A linear (multinomial logistic) model `inputs → classes` for tabular data
    /// (`linear-{inputs}-{classes}`).
    Linear {
        /// Number of input features.
        inputs: usize,
        /// Number of classes (outputs).
        classes: usize,
    },
}

/// The Gaussian layer of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerSpec {
    /// A fully connected layer; weight shape (outputs, inputs), bias (outputs), as in PyTorch.
    Linear {
        /// Input features.
        inputs: usize,
        /// Output features.
        outputs: usize,
    },
    /// A 2-d convolution, stride 1, with `padding` zeros added on each side of the input;
    /// weight shape (out, in, k, k), bias (out).
    Conv2d {
        /// Input channels.
        in_channels: usize,
        /// Output channels.
        out_channels: usize,
        /// Side of the square kernel.
        kernel: usize,
        /// Zeros added on each of the four sides of the input (0: none, `kernel / 2`: "same").
        padding: usize,
    },
}

impl LayerSpec {
    /// The shapes of the weight and of the bias.
    pub fn param_shapes(&self) -> [Vec<usize>; 2] {
        match *self {
            LayerSpec::Linear { inputs, outputs } => [vec![outputs, inputs], vec![outputs]],
            LayerSpec::Conv2d { in_channels, out_channels, kernel, .. } => {
                [vec![out_channels, in_channels, kernel, kernel], vec![out_channels]]
            }
        }
    }

    /// The fan-in of a unit: the initial means have standard deviation 1/√fan_in.
    pub fn fan_in(&self) -> usize {
        match *self {
            LayerSpec::Linear { inputs, .. } => inputs,
            LayerSpec::Conv2d { in_channels, kernel, .. } => in_channels * kernel * kernel,
        }
    }
}

/// One Gaussian layer and what is applied after it, in this order: ReLU, max-pooling, dropout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// The layer.
    pub layer: LayerSpec,
    /// Whether a ReLU follows.
    pub relu: bool,
    /// The side of a max-pooling window that follows, if any.
    pub max_pool: Option<usize>,
    /// Whether dropout follows, when the forward mode asks for it (as in Pérez-Ortiz et al.).
    pub dropout: bool,
}

impl Stage {
    fn hidden(layer: LayerSpec) -> Self {
        Stage { layer, relu: true, max_pool: None, dropout: true }
    }

    fn output(layer: LayerSpec) -> Self {
        Stage { layer, relu: false, max_pool: None, dropout: false }
    }
}

fn linear(inputs: usize, outputs: usize) -> LayerSpec {
    LayerSpec::Linear { inputs, outputs }
}

impl LayerSpec {
    /// The input of this layer padded as it asks: `x` itself unless it is a convolution with
    /// padding, else `x` (batch, channels, h, w) with `padding` zeros on each side of h and w.
    ///
    /// # Errors
    /// A candle failure (an input that is not of rank 4 for a padded convolution).
    pub fn pad_input(&self, x: &candle_core::Tensor) -> candle_core::Result<candle_core::Tensor> {
        match *self {
            LayerSpec::Conv2d { padding, .. } if padding > 0 => {
                x.pad_with_zeros(2, padding, padding)?.pad_with_zeros(3, padding, padding)
            }
            _ => Ok(x.clone()),
        }
    }
}

/// The stages of the CIFAR-10 CNNs of Pérez-Ortiz et al. (2021): 3×3 convolutions with padding 1
/// of the output channels of each block (max-pooling 2 after the last convolution of a block), then
/// three fully connected layers `hidden → 1024 → 512 → 10`. Dropout (when asked) follows every
/// layer but the last, as in their reference networks.
fn cifar_cnn(blocks: &[&[usize]]) -> Vec<Stage> {
    let mut stages = Vec::new();
    let mut channels = 3;
    let mut side = 32;
    for block in blocks {
        for (j, &out) in block.iter().enumerate() {
            let layer = LayerSpec::Conv2d { in_channels: channels, out_channels: out, kernel: 3, padding: 1 };
            let max_pool = (j + 1 == block.len()).then_some(2);
            stages.push(Stage { layer, relu: true, max_pool, dropout: true });
            channels = out;
        }
        side /= 2;
    }
    stages.push(Stage::hidden(linear(channels * side * side, 1024)));
    stages.push(Stage::hidden(linear(1024, 512)));
    stages.push(Stage::output(linear(512, 10)));
    stages
}

impl Architecture {
    /// The stages, in order.
    pub fn stages(&self) -> Vec<Stage> {
        match *self {
            Architecture::Fcn => vec![
                Stage::hidden(linear(784, 600)),
                Stage::hidden(linear(600, 600)),
                Stage::hidden(linear(600, 600)),
                Stage::output(linear(600, 10)),
            ],
            Architecture::Cnn => vec![
                Stage {
                    layer: LayerSpec::Conv2d { in_channels: 1, out_channels: 32, kernel: 3, padding: 0 },
                    relu: true,
                    max_pool: None,
                    dropout: false,
                },
                Stage {
                    layer: LayerSpec::Conv2d { in_channels: 32, out_channels: 64, kernel: 3, padding: 0 },
                    relu: true,
                    max_pool: Some(2),
                    dropout: true,
                },
                Stage::hidden(linear(9216, 128)),
                Stage::output(linear(128, 10)),
            ],
            Architecture::Cnn6 => {
                let conv = |in_channels, out_channels| LayerSpec::Conv2d {
                    in_channels,
                    out_channels,
                    kernel: 3,
                    padding: 1,
                };
                vec![
                    Stage { layer: conv(1, 32), relu: true, max_pool: Some(2), dropout: false },
                    Stage { layer: conv(32, 64), relu: true, max_pool: None, dropout: true },
                    Stage { layer: conv(64, 64), relu: true, max_pool: Some(2), dropout: true },
                    Stage { layer: conv(64, 128), relu: true, max_pool: None, dropout: true },
                    Stage::hidden(linear(128 * 7 * 7, 128)),
                    Stage::output(linear(128, 10)),
                ]
            }
            Architecture::FcnBinary => vec![Stage::hidden(linear(784, 600)), Stage::output(linear(600, 2))],
            Architecture::Cnn9 => cifar_cnn(&[&[32, 64], &[128, 128], &[256, 256]]),
            Architecture::Cnn13 => cifar_cnn(&[&[32, 64], &[128, 128], &[256, 256, 256], &[512, 512, 512]]),
            Architecture::Cnn15 => {
                cifar_cnn(&[&[32, 64], &[128, 128], &[256, 256, 256, 256], &[512, 512, 512, 512]])
            }
            Architecture::Linear { inputs, classes } => vec![Stage::output(linear(inputs, classes))],
        }
    }

    /// The fixed affine map `x ↦ (x − shift) / scale` applied to every input before the first layer:
    /// for the MNIST architectures the published pixel mean and standard deviation of MNIST
    /// (0.1307, 0.3081), as in the reference code's input normalization; none for the linear model.
    /// The constants do not depend on any sample, so they cost nothing in a bound. None for the
    /// CIFAR-10 CNNs either: their per-channel normalization is fitted on the prior side of the
    /// split and applied to the data before it reaches the network.
    pub fn input_normalization(&self) -> Option<(f32, f32)> {
        match *self {
            Architecture::Fcn | Architecture::Cnn | Architecture::Cnn6 | Architecture::FcnBinary => {
                Some((0.1307, 0.3081))
            }
            Architecture::Linear { .. } | Architecture::Cnn9 | Architecture::Cnn13 | Architecture::Cnn15 => {
                None
            }
        }
    }

    /// The shape of one example: `[784]` for the fully connected and linear models (a flat vector),
    /// `[1, 28, 28]` for the CNN, `[3, 32, 32]` for the CIFAR-10 CNNs. Inputs of any shape with this many values per example are reshaped.
    pub fn example_shape(&self) -> Vec<usize> {
        match *self {
            Architecture::Fcn | Architecture::FcnBinary => vec![784],
            Architecture::Cnn | Architecture::Cnn6 => vec![1, 28, 28],
            Architecture::Cnn9 | Architecture::Cnn13 | Architecture::Cnn15 => vec![3, 32, 32],
            Architecture::Linear { inputs, .. } => vec![inputs],
        }
    }

    /// The number of input values per example.
    pub fn inputs(&self) -> usize {
        self.example_shape().iter().product()
    }

    /// The number of outputs (classes).
    pub fn classes(&self) -> usize {
        match *self {
            Architecture::Fcn
            | Architecture::Cnn
            | Architecture::Cnn6
            | Architecture::Cnn9
            | Architecture::Cnn13
            | Architecture::Cnn15 => 10,
            Architecture::FcnBinary => 2,
            Architecture::Linear { classes, .. } => classes,
        }
    }

    /// The parameter names and shapes in canonical order: `layers.0.weight`, `layers.0.bias`,
    /// `layers.1.weight`, ...
    pub fn params(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        for (i, stage) in self.stages().iter().enumerate() {
            let [w, b] = stage.layer.param_shapes();
            out.push((format!("layers.{i}.weight"), w));
            out.push((format!("layers.{i}.bias"), b));
        }
        out
    }

    /// The total number of scalar parameters (weights and biases).
    pub fn num_params(&self) -> usize {
        self.params().iter().map(|(_, shape)| shape.iter().product::<usize>()).sum()
    }

    /// The architecture named `name` for data with `inputs` features and `classes` classes: `linear`
    /// takes its sizes from the data; the fixed architectures check that the data fits them.
    ///
    /// # Errors
    /// An unknown name, or data that does not fit.
    pub fn for_data(name: &str, inputs: usize, classes: usize) -> Result<Self> {
        let arch = if name.trim().eq_ignore_ascii_case("linear") {
            Architecture::Linear { inputs, classes }
        } else {
            name.parse()?
        };
        if arch.inputs() != inputs || arch.classes() != classes {
            return Err(Error::ArchitectureDataMismatch {
                architecture: arch.to_string(),
                expected_inputs: arch.inputs(),
                expected_classes: arch.classes(),
                inputs,
                classes,
            });
        }
        Ok(arch)
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Architecture::Fcn => f.write_str("fcn"),
            Architecture::Cnn => f.write_str("cnn"),
            Architecture::Cnn6 => f.write_str("cnn6"),
            Architecture::FcnBinary => f.write_str("fcn-binary"),
            Architecture::Cnn9 => f.write_str("cnn9"),
            Architecture::Cnn13 => f.write_str("cnn13"),
            Architecture::Cnn15 => f.write_str("cnn15"),
            Architecture::Linear { inputs, classes } => write!(f, "linear-{inputs}-{classes}"),
        }
    }
}

impl FromStr for Architecture {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        let unknown = || Error::UnknownArchitecture { name: name.to_string(), expected: ACCEPTED };
        let lower = name.trim().to_ascii_lowercase();
        match lower.as_str() {
            "fcn" => Ok(Architecture::Fcn),
            "cnn" => Ok(Architecture::Cnn),
            "cnn6" => Ok(Architecture::Cnn6),
            "fcn-binary" | "mlp600" => Ok(Architecture::FcnBinary),
            "cnn9" => Ok(Architecture::Cnn9),
            "cnn13" => Ok(Architecture::Cnn13),
            "cnn15" => Ok(Architecture::Cnn15),
            other => {
                let sizes = other.strip_prefix("linear-").ok_or_else(unknown)?;
                let (inputs, classes) = sizes.split_once('-').ok_or_else(unknown)?;
                let inputs: usize = inputs.parse().map_err(|_| unknown())?;
                let classes: usize = classes.parse().map_err(|_| unknown())?;
                if inputs == 0 || classes < 2 {
                    return Err(unknown());
                }
                Ok(Architecture::Linear { inputs, classes })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_are_errors() -> Result<()> {
        for arch in [
            Architecture::Fcn,
            Architecture::Cnn,
            Architecture::Cnn6,
            Architecture::FcnBinary,
            Architecture::Cnn9,
            Architecture::Cnn13,
            Architecture::Cnn15,
            Architecture::Linear { inputs: 54, classes: 7 },
        ] {
            assert_eq!(arch.to_string().parse::<Architecture>()?, arch);
        }
        assert_eq!("MLP600".parse::<Architecture>()?, Architecture::FcnBinary);
        for bad in ["resnet", "linear", "linear-3", "linear-0-2", "linear-5-1", "linear-a-b", ""] {
            assert!(matches!(bad.parse::<Architecture>(), Err(Error::UnknownArchitecture { .. })), "{bad}");
        }
        assert_eq!(Architecture::for_data("linear", 8, 2)?, Architecture::Linear { inputs: 8, classes: 2 });
        assert!(matches!(Architecture::for_data("fcn", 8, 2), Err(Error::ArchitectureDataMismatch { .. })));
        Ok(())
    }

    #[test]
    fn cnn_shapes_chain() {
        // 28 → 26 → 24 → pool 12; 64 · 12 · 12 = 9216 inputs to the first fully connected layer.
        let stages = Architecture::Cnn.stages();
        assert_eq!(stages[2].layer, LayerSpec::Linear { inputs: 64 * 12 * 12, outputs: 128 });
        assert_eq!(Architecture::Cnn.params().len(), 8);
        assert_eq!(Architecture::Cnn.params()[2], ("layers.1.weight".to_string(), vec![64, 32, 3, 3]));
    }

    #[test]
    fn cnn6_shapes_chain() {
        // 28 → pool 14 → pool 7 with "same" 3×3 convolutions; 128 · 7 · 7 = 6272 inputs to the first
        // fully connected layer.
        let stages = Architecture::Cnn6.stages();
        assert_eq!(stages.len(), 6);
        assert_eq!(stages[4].layer, LayerSpec::Linear { inputs: 128 * 7 * 7, outputs: 128 });
        assert_eq!(stages.iter().filter(|s| s.max_pool.is_some()).count(), 2);
        let conv: usize = [(1, 32), (32, 64), (64, 64), (64, 128)].iter().map(|&(i, o)| o * i * 9 + o).sum();
        let fc: usize = [(6272, 128), (128, 10)].iter().map(|&(i, o)| o * i + o).sum();
        assert_eq!(Architecture::Cnn6.num_params(), conv + fc);
        assert_eq!(Architecture::Cnn6.example_shape(), vec![1, 28, 28]);
    }

    #[test]
    fn cifar_cnns_have_the_published_layers() {
        // Layer counts and the first fully connected layer's inputs of CNNet9l, CNNet13l and
        // CNNet15l (Pérez-Ortiz et al., 2021, reference code `models.py`): 32 → 16 → 8 → 4 (→ 2).
        for (arch, layers, convs, fc_inputs) in [
            (Architecture::Cnn9, 9, 6, 256 * 4 * 4),
            (Architecture::Cnn13, 13, 10, 512 * 2 * 2),
            (Architecture::Cnn15, 15, 12, 512 * 2 * 2),
        ] {
            let stages = arch.stages();
            assert_eq!(stages.len(), layers, "{arch}");
            let n_conv = stages.iter().filter(|s| matches!(s.layer, LayerSpec::Conv2d { .. })).count();
            assert_eq!(n_conv, convs, "{arch}");
            assert_eq!(stages[convs].layer, LayerSpec::Linear { inputs: fc_inputs, outputs: 1024 }, "{arch}");
            assert_eq!(
                stages.iter().filter(|s| s.max_pool.is_some()).count(),
                if layers == 9 { 3 } else { 4 }
            );
            assert_eq!(arch.params().len(), 2 * layers);
            assert_eq!(arch.example_shape(), vec![3, 32, 32]);
        }
        assert_eq!(
            Architecture::Cnn9.stages()[0].layer,
            LayerSpec::Conv2d { in_channels: 3, out_channels: 32, kernel: 3, padding: 1 }
        );
        // Parameter count of CNNet9l, from its layer shapes: Σ (out·in·9 + out) + Σ (out·in + out).
        let conv: usize = [(3, 32), (32, 64), (64, 128), (128, 128), (128, 256), (256, 256)]
            .iter()
            .map(|&(i, o)| o * i * 9 + o)
            .sum();
        let fc: usize = [(4096, 1024), (1024, 512), (512, 10)].iter().map(|&(i, o)| o * i + o).sum();
        assert_eq!(Architecture::Cnn9.num_params(), conv + fc);
    }
}
