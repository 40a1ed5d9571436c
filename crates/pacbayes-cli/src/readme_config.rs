//! The configuration shown in the README's "Configuration" section is a valid `pacbayes run`
//! configuration, read by the code that reads `--config`, and the values it shows without saying
//! otherwise are the defaults.

use pacbayes_pipeline::RunConfig;

/// The first ```toml block after the heading `## Configuration` of the workspace's README.md.
fn readme_block() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let section = readme.split_once("\n## Configuration\n").expect("a Configuration section").1;
    let block = section.split_once("```toml\n").expect("a toml block in the Configuration section").1;
    block.split_once("\n```").expect("the toml block ends").0.to_owned()
}

/// The keys of the README's block that it sets to something other than their default (with a
/// comment saying so, or as an example of a choice): every other key it shows must be at its
/// default.
const NOT_DEFAULTS: [&str; 5] = [
    "name",                 // computed when absent
    "prior.architecture",   // cnn, where fcn is the default
    "prior.training.shift", // absent by default: chosen by the data (2 for grey images)
    "prior.training.flip",  // absent by default: chosen by the data (false for grey images)
    "posterior.epochs",     // 10, where the quick preset has 3
];

/// The value at a dotted path of a JSON object.
fn at<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// The dotted paths of the keys set in a TOML table.
fn paths(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::Table(t) => paths(t, &path, out),
            _ => out.push(path),
        }
    }
}

#[test]
fn the_readme_configuration_is_read_and_checked_as_run_reads_it() {
    let block = readme_block();
    assert!(block.contains("[prior]") && block.contains("[certificate]"), "{block}");
    let config = RunConfig::resolve(&block, None)
        .unwrap_or_else(|(line, message)| panic!("README.md's configuration, line {line}: {message}"));
    config.check().expect("README.md's configuration passes the checks of `pacbayes run`");

    // A key that is not a setting is refused, with its line.
    let (line, message) = RunConfig::resolve(&format!("colour = 1\n{block}"), None).unwrap_err();
    assert_eq!(line, 1);
    assert!(message.contains("colour"), "{message}");
}

#[test]
fn the_readme_shows_the_defaults() {
    let block = readme_block();
    let given: toml::Table = toml::from_str(&block).expect("the README's block is TOML");
    let mut keys = Vec::new();
    paths(&given, "", &mut keys);
    assert!(keys.len() >= 15, "{keys:?}");
    let shown = serde_json::to_value(RunConfig::resolve(&block, None).expect("valid")).expect("serializes");
    let default = serde_json::to_value(RunConfig::resolve("", None).expect("valid")).expect("serializes");
    let differ: Vec<String> = keys
        .iter()
        .filter(|k| !NOT_DEFAULTS.contains(&k.as_str()))
        .filter(|k| at(&shown, k) != at(&default, k))
        .map(|k| format!("{k}: README {:?}, default {:?}", at(&shown, k), at(&default, k)))
        .collect();
    assert!(differ.is_empty(), "README.md shows values that are not the defaults:\n{}", differ.join("\n"));
    for key in NOT_DEFAULTS {
        assert!(keys.iter().any(|k| k == key), "{key} is no longer in README.md's block");
    }
}
