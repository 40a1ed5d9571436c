//! The typed plans of the experiment binaries give the very configurations that their TOML texts
//! gave before (the texts are kept here as they were), so that the committed tables in
//! `experiments/results/` stay reproducible and finished run folders are still recognised.

use experiments::{Planned, plans};
use pacbayes_pipeline::{Preset, RunConfig};

/// The TOML text of each run, as the binaries wrote it, by run name.
fn legacy(experiment: &str) -> Vec<(String, String)> {
    let mut plan = Vec::new();
    let mut push = |name: String, config: String| plan.push((name, config));
    const CNN_PRIOR: &str = "validation_fraction = 0.0\n[prior.training]\nepochs = 20\n";
    const CNN_POSTERIOR: &str =
        "epochs = 1\nmode = \"sample\"\n[certificate]\nrepetitions = 2\nensemble_size = 10\n";
    const LAPLACE_POSTERIOR: &str = "mode = \"sample\"\n[certificate]\nrepetitions = 2\n";
    let scale = |kind: &str| if kind == "learnt" { "" } else { "sigma0 = 0.03\n" };
    match experiment {
        "binary_mnist" | "mnist_data_free" => {
            let (name, dataset, architecture, sigma0, configurations) = if experiment == "binary_mnist" {
                ("binary-mnist-fcn600-data-free-f-kl", "binary-mnist", "fcn-binary", 0.05, 16)
            } else {
                // 9 since a ninth configuration was tried (8 in the text as first written).
                ("mnist-fcn-data-free-warm-f-kl", "mnist", "fcn", 0.03, 9)
            };
            let config = format!(
                "[prior]\ndataset = \"{dataset}\"\narchitecture = \"{architecture}\"\nkind = \"data-free\"\n\
                 prior_fraction = 0.0\nsigma0 = {sigma0}\n\
                 [posterior]\nobjective = \"f-kl\"\nepochs = 100\nlearning_rate = 0.005\n\
                 learning_rate_schedule = \"cosine\"\np_min = 0.05\n\
                 warmup_epochs = 3\nwarmup_learning_rate = 0.01\n\
                 [certificate]\nconfigurations = {configurations}\n"
            );
            push(name.to_owned(), config);
        }
        "cifar10_table" => {
            for architecture in ["cnn9", "cnn13", "cnn15"] {
                for objective in ["f-quad", "f-lambda", "f-classic"] {
                    let config = format!(
                        "[prior]\ndataset = \"cifar10:/data/cifar10\"\narchitecture = \"{architecture}\"\nkind = \"learnt\"\n\
                         prior_fraction = 0.5\n[posterior]\nobjective = \"{objective}\"\n{CNN_POSTERIOR}"
                    );
                    push(format!("cifar10-{architecture}-learnt-{objective}"), config);
                }
            }
        }
        "data_scarce" => {
            for n in [1_000, 3_000, 10_000, 60_000] {
                let dataset = if n == 60_000 { "mnist".to_owned() } else { format!("mnist[{n}]") };
                let (prior_epochs, posterior_epochs) = (50 * 60_000 / n, 3 * 60_000 / n);
                for objective in ["f-quad", "f-kl"] {
                    let config = format!(
                        "[prior]\ndataset = \"{dataset}\"\narchitecture = \"fcn\"\nkind = \"learnt\"\n\
                         prior_fraction = 0.5\n[prior.training]\nepochs = {prior_epochs}\n\
                         [posterior]\nobjective = \"{objective}\"\nepochs = {posterior_epochs}\n"
                    );
                    push(format!("mnist{n}-fcn-learnt-{objective}"), config);
                }
            }
        }
        "fashion_mnist" => {
            for architecture in ["fcn", "cnn"] {
                for objective in ["f-quad", "f-kl"] {
                    let config = format!(
                        "[prior]\ndataset = \"fashion-mnist\"\narchitecture = \"{architecture}\"\nkind = \"learnt\"\n\
                         prior_fraction = 0.5\n{cnn}[posterior]\nobjective = \"{objective}\"\n{cnn_posterior}",
                        cnn = if architecture == "cnn" { CNN_PRIOR } else { "" },
                        cnn_posterior = if architecture == "cnn" { CNN_POSTERIOR } else { "" },
                    );
                    push(format!("fashion-mnist-{architecture}-learnt-{objective}"), config);
                }
            }
        }
        "prior_families" => {
            // The CNN's rows were added as typed plans; their texts are written here the same way.
            for architecture in ["fcn", "cnn"] {
                for scale in ["scalar", "fisher", "per-layer", "swag", "pac-bayes"] {
                    for objective in ["f-quad", "f-kl"] {
                        let (cnn, cnn_posterior) = if architecture == "cnn" {
                            ("[prior.training]\nepochs = 20\n", CNN_POSTERIOR)
                        } else {
                            ("", "")
                        };
                        let config = format!(
                            "[prior]\ndataset = \"mnist\"\narchitecture = \"{architecture}\"\nkind = \"learnt\"\n\
                             prior_fraction = 0.5\nscale = \"{scale}\"\n{cnn}[posterior]\nobjective = \"{objective}\"\n\
                             {cnn_posterior}"
                        );
                        push(format!("mnist-{architecture}-{scale}-{objective}"), config);
                    }
                }
            }
        }
        "mnist_table" => {
            for architecture in ["fcn", "cnn"] {
                for (kind, alpha) in [("learnt", 0.5), ("data-free", 0.0)] {
                    for objective in ["f-quad", "f-lambda", "f-classic"] {
                        let config = format!(
                            "[prior]\ndataset = \"mnist\"\narchitecture = \"{architecture}\"\nkind = \"{kind}\"\n\
                             prior_fraction = {alpha}\n{scale}{cnn}[posterior]\nobjective = \"{objective}\"\n{cnn_posterior}",
                            scale = scale(kind),
                            cnn = if architecture == "cnn" { CNN_PRIOR } else { "" },
                            cnn_posterior = if architecture == "cnn" { CNN_POSTERIOR } else { "" },
                        );
                        push(format!("mnist-{architecture}-{kind}-{objective}"), config);
                    }
                }
            }
            for (kind, alpha) in [("learnt", 0.5), ("data-free", 0.0)] {
                for objective in ["f-quad", "f-lambda", "f-classic"] {
                    let config = format!(
                        "[prior]\ndataset = \"mnist\"\narchitecture = \"fcn\"\nkind = \"{kind}\"\n\
                         prior_fraction = {alpha}\ndistribution = \"laplace\"\n{scale}[posterior]\n\
                         objective = \"{objective}\"\n{LAPLACE_POSTERIOR}",
                        scale = scale(kind),
                    );
                    push(format!("mnist-fcn-laplace-{kind}-{objective}"), config);
                }
            }
        }
        "mnist_cnn6" => {
            let config = "[prior]\ndataset = \"mnist\"\narchitecture = \"cnn6\"\nkind = \"learnt\"\n\
                 prior_fraction = 0.8\nvalidation_fraction = 0.05\n\
                 [prior.training]\nepochs = 20\nlearning_rate = 0.02\n\
                 [posterior]\nobjective = \"f-quad\"\nepochs = 1\nmode = \"sample\"\n\
                 [certificate]\nrepetitions = 2\nensemble_size = 10\nconfigurations = 2\n";
            push("mnist-cnn6-alpha0.8-learnt-f-quad".to_owned(), config.to_owned());
        }
        "fashion_mnist_cnn6" => {
            let config = format!(
                "[prior]\ndataset = \"fashion-mnist\"\narchitecture = \"cnn6\"\nkind = \"learnt\"\n\
                 prior_fraction = 0.5\n{CNN_PRIOR}[posterior]\nobjective = \"f-quad\"\n{CNN_POSTERIOR}"
            );
            push("fashion-mnist-cnn6-learnt-f-quad".to_owned(), config);
        }
        "fashion_mnist_tuned" => {
            let config = "[prior]\ndataset = \"fashion-mnist\"\narchitecture = \"cnn\"\nkind = \"learnt\"\n\
                 prior_fraction = 0.7\nvalidation_fraction = 0.05\n\
                 [prior.training]\nepochs = 10\nlearning_rate = 0.05\ndropout = 0.0\nshift = 0\nflip = true\n\
                 [posterior]\nobjective = \"f-quad\"\nepochs = 1\nmode = \"sample\"\n\
                 [certificate]\nrepetitions = 2\nensemble_size = 10\nconfigurations = 6\n";
            push("fashion-mnist-cnn-alpha0.7-tuned-f-quad".to_owned(), config.to_owned());
        }
        "mnist_fcn_tuned" => {
            let config = "[prior]\ndataset = \"mnist\"\narchitecture = \"fcn\"\nkind = \"learnt\"\n\
                 prior_fraction = 0.8\nvalidation_fraction = 0.05\n\
                 [prior.training]\nlearning_rate = 0.02\n\
                 [posterior]\nobjective = \"f-quad\"\n[certificate]\nconfigurations = 32\n";
            push("mnist-fcn-alpha0.8-tuned-f-quad".to_owned(), config.to_owned());
        }
        "prior_fraction_sweep" => {
            for tenths in 0..10 {
                let alpha = f64::from(tenths) / 10.0;
                let (kind, scale) =
                    if tenths == 0 { ("data-free", "sigma0 = 0.03\n") } else { ("learnt", "") };
                let config = format!(
                    "[prior]\ndataset = \"mnist\"\narchitecture = \"fcn\"\nkind = \"{kind}\"\n\
                     prior_fraction = {alpha}\n{scale}[posterior]\nobjective = \"f-quad\"\n"
                );
                push(format!("mnist-fcn-alpha{alpha:.1}"), config);
            }
        }
        other => panic!("no experiment {other}"),
    }
    plan
}

/// The configuration a legacy text gave: the texts were written when the prior's ERM defaulted to
/// the published learning rate, so a text that sets none ran at that rate.
fn as_written(text: &str, name: &str) -> RunConfig {
    let mut table: toml::Table = toml::from_str(text).unwrap();
    let prior = table.entry("prior").or_insert_with(|| toml::Table::new().into());
    let training =
        prior.as_table_mut().unwrap().entry("training").or_insert_with(|| toml::Table::new().into());
    training
        .as_table_mut()
        .unwrap()
        .entry("learning_rate")
        .or_insert(pacbayes_prior::PUBLISHED_LEARNING_RATE.into());
    RunConfig::from_toml(&toml::to_string(&table).unwrap(), name).unwrap()
}

fn typed(experiment: &str) -> Vec<Planned> {
    match experiment {
        "binary_mnist" => plans::binary_mnist(),
        "cifar10_table" => plans::cifar10_table("cifar10:/data/cifar10"),
        "data_scarce" => plans::data_scarce(),
        "fashion_mnist" => plans::fashion_mnist(),
        "mnist_table" => plans::mnist_table(),
        "mnist_data_free" => plans::mnist_data_free(),
        "mnist_cnn6" => plans::mnist_cnn6(),
        "mnist_fcn_tuned" => plans::mnist_fcn_tuned(),
        "fashion_mnist_cnn6" => plans::fashion_mnist_cnn6(),
        "fashion_mnist_tuned" => plans::fashion_mnist_tuned(),
        "prior_fraction_sweep" => plans::prior_fraction_sweep(),
        "prior_families" => plans::prior_families(),
        other => panic!("no experiment {other}"),
    }
}

const EXPERIMENTS: [&str; 12] = [
    "binary_mnist",
    "cifar10_table",
    "data_scarce",
    "fashion_mnist",
    "fashion_mnist_cnn6",
    "fashion_mnist_tuned",
    "mnist_table",
    "mnist_data_free",
    "mnist_cnn6",
    "mnist_fcn_tuned",
    "prior_fraction_sweep",
    "prior_families",
];

#[test]
fn every_typed_plan_gives_the_configurations_of_its_former_toml() {
    let mut compared = 0;
    for experiment in EXPERIMENTS {
        let (old, new) = (legacy(experiment), typed(experiment));
        let names = |plan: &[(String, String)]| plan.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        let new_names: Vec<String> = new.iter().map(|p| p.name.clone()).collect();
        assert_eq!(new_names, names(&old), "{experiment}: the same runs, in the same order");
        for ((name, text), planned) in old.iter().zip(&new) {
            for preset in [Preset::Quick, Preset::Paper] {
                let text = format!("name = \"{name}\"\npreset = \"{}\"\n{text}", preset.name());
                let before = as_written(&text, name);
                let after = planned.config(preset);
                assert_eq!(after, before, "{experiment}: {name} ({preset:?})");
                // The config.toml of the run folder, byte for byte.
                assert_eq!(after.to_toml().unwrap(), before.to_toml().unwrap(), "{name}");
                after.check().unwrap_or_else(|e| panic!("{name}: {}", pacbayes_pipeline::chain(&e)));
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 2 * (1 + 9 + 8 + 4 + 1 + 1 + 18 + 1 + 1 + 1 + 10 + 20));
}

#[test]
fn a_planned_run_differs_from_its_neighbours() {
    // The comparison above would pass for plans that ignore their settings if the texts did too.
    let plan = plans::mnist_table();
    let configs: Vec<RunConfig> = plan.iter().map(|p| p.config(Preset::Quick)).collect();
    for (i, a) in configs.iter().enumerate() {
        for b in &configs[i + 1..] {
            let (mut a, mut b) = (a.clone(), b.clone());
            (a.name, b.name) = (String::new(), String::new());
            assert_ne!(a, b);
        }
    }
}
