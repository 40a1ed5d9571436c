//! Every key of the configuration of `pacbayes prior`, `pacbayes posterior` and `pacbayes certify`
//! has a flag of the same name (underscores written as dashes), listed by the stage's `--help`.

use std::collections::BTreeSet;

use clap::{CommandFactory, Parser};
use serde::Serialize;

use crate::cli::{Cli, Command};
use pacbayes_pipeline::CertifyConfig;
use pacbayes_pipeline::PosteriorConfig;
use pacbayes_pipeline::PriorConfig;

/// The keys of a configuration, each with its table: the keys of the top-level table and of every
/// nested table (`[training] epochs` has the flag `--epochs`). The configuration is walked as JSON,
/// which keeps the keys whose value is `None` (TOML leaves them out).
fn keys(config: &impl Serialize) -> Vec<(String, String)> {
    fn walk(table: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
        let serde_json::Value::Object(map) = value else { return };
        for (key, value) in map {
            if value.is_object() {
                walk(&format!("{table}[{key}] "), value, out);
            } else {
                out.push((table.to_owned(), key.clone()));
            }
        }
    }
    let mut out = Vec::new();
    walk("", &serde_json::to_value(config).expect("a configuration serializes"), &mut out);
    out
}

/// The flags that `pacbayes <stage> --help` lists.
fn listed_flags(stage: &str) -> BTreeSet<String> {
    let mut cli = Cli::command();
    let help = cli.find_subcommand_mut(stage).expect("a subcommand").render_long_help().to_string();
    help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|word| word.starts_with("--"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_key_has_a_flag() {
    let stages: [(&str, Vec<(String, String)>); 3] = [
        ("prior", keys(&PriorConfig::default())),
        ("posterior", keys(&PosteriorConfig::default())),
        ("certify", keys(&CertifyConfig::default())),
    ];
    let mut missing = Vec::new();
    for (stage, keys) in &stages {
        assert!(keys.len() >= 8, "{stage}: too few keys found: {keys:?}");
        let flags = listed_flags(stage);
        for (table, key) in keys {
            let flag = format!("--{}", key.replace('_', "-"));
            if !flags.contains(&flag) {
                missing.push(format!("pacbayes {stage}: {table}{key} has no {flag}"));
            }
        }
    }
    assert!(missing.is_empty(), "keys without a flag:\n{}", missing.join("\n"));
}

#[test]
fn the_walk_finds_nested_and_absent_keys() {
    let prior = keys(&PriorConfig::default());
    for key in ["label_column", "from", "epochs", "shift", "flip", "distribution"] {
        assert!(prior.iter().any(|(_, k)| k == key), "{key} not found in {prior:?}");
    }
    assert!(prior.iter().all(|(_, k)| k != "training"), "a table is not a key: {prior:?}");
    let flags = listed_flags("prior");
    assert!(flags.contains("--label-column") && !flags.contains("--label_column"), "{flags:?}");
}

fn parse(args: &[&str]) -> Command {
    let mut line = vec!["pacbayes"];
    line.extend_from_slice(args);
    Cli::try_parse_from(line).expect("the command line parses").command
}

#[test]
fn the_added_flags_set_their_keys() {
    let Command::Prior(args) = parse(&["prior", "--out", "x", "--label-column", "y"]) else { unreachable!() };
    assert_eq!(args.resolve().unwrap().label_column, "y");

    let line = [
        "posterior",
        "--prior",
        "x",
        "--adam-beta1",
        "0.5",
        "--adam-beta2",
        "0.75",
        "--adam-epsilon",
        "0.125",
        "--fixed-noise",
    ];
    let Command::Posterior(args) = parse(&line) else { unreachable!() };
    let c = args.resolve().unwrap();
    for (got, want) in [(c.adam_beta1, 0.5), (c.adam_beta2, 0.75), (c.adam_epsilon, 0.125)] {
        assert!((got - want).abs() < 1e-15, "{got} != {want}");
    }
    assert!(c.fixed_noise);
    let Command::Posterior(args) = parse(&["posterior", "--prior", "x", "--fixed-noise", "false"]) else {
        unreachable!()
    };
    assert!(!args.resolve().unwrap().fixed_noise);

    let line = ["certify", "--run", "x", "--batch-size", "7", "--ensemble-size", "3", "--renyi-alpha", "4"];
    let Command::Certify(args) = parse(&line) else { unreachable!() };
    let c = args.resolve().unwrap();
    assert_eq!((c.batch_size, c.ensemble_size), (7, 3));
    assert!((c.renyi_alpha - 4.0).abs() < 1e-15, "{}", c.renyi_alpha);
    let zero = Cli::try_parse_from(["pacbayes", "certify", "--run", "x", "--ensemble-size", "0"]);
    assert!(zero.is_err());
}

#[test]
fn enumerated_flags_take_the_names_of_their_keys() {
    // `--kind` of `pacbayes prior` and the key `kind` are one type: a name one accepts, the other does.
    let Command::Prior(args) = parse(&["prior", "--out", "x", "--kind", "data-free"]) else { unreachable!() };
    assert_eq!(args.resolve().unwrap().kind, pacbayes_pipeline::PriorKind::DataFree);
    let key: PriorConfig = pacbayes_pipeline::parse("kind = \"data-free\"\n").unwrap();
    assert_eq!(key.kind, pacbayes_pipeline::PriorKind::DataFree);
    assert!(Cli::try_parse_from(["pacbayes", "prior", "--out", "x", "--kind", "data_free"]).is_err());
    assert!(pacbayes_pipeline::parse::<PriorConfig>("kind = \"data_free\"\n").is_err());
    let Command::Certify(args) = parse(&["certify", "--run", "x", "--kind", "gibbs"]) else { unreachable!() };
    assert_eq!(args.kind, pacbayes_pipeline::CertificateKind::Gibbs);
    let Command::Certify(args) = parse(&["certify", "--run", "x"]) else { unreachable!() };
    assert_eq!(args.kind, pacbayes_pipeline::CertificateKind::Both);

    // The posterior's enumerated flags and keys: the same names give the same settings.
    let flags = [
        "posterior",
        "--prior",
        "x",
        "--objective",
        "f-kl",
        "--optimizer",
        "adam",
        "--train-on",
        "bound",
        "--mode",
        "sample",
        "--preconditioner",
        "none",
        "--learning-rate-schedule",
        "cosine",
    ];
    let Command::Posterior(args) = parse(&flags) else { unreachable!() };
    let by_flags = args.resolve().unwrap();
    let text = "objective = \"f-kl\"\noptimizer = \"adam\"\ntrain_on = \"bound\"\nmode = \"sample\"\n\
                preconditioner = \"none\"\nlearning_rate_schedule = \"cosine\"\n";
    let by_keys: PosteriorConfig = pacbayes_pipeline::parse(text).unwrap();
    assert_eq!(by_flags, by_keys);
    assert_eq!(by_keys.objective, pacbayes_posterior::ObjectiveKind::FKl);
    assert_ne!(by_keys, PosteriorConfig::default());
    assert!(
        Cli::try_parse_from(["pacbayes", "posterior", "--prior", "x", "--train-on", "train_on"]).is_err()
    );
    assert!(Cli::try_parse_from(["pacbayes", "posterior", "--prior", "x", "--objective", "fquad"]).is_err());
}
