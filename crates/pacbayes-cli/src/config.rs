//! Configuration files: TOML, every key optional (defaults are documented on the config types),
//! unknown keys an error that names the key, the file and the line.

use std::path::Path;

use anyhow::Result;
use serde::de::DeserializeOwned;

use crate::exit::UsageError;

/// The configuration in `path`, or the defaults when there is none.
pub(crate) fn read_or_default<T: DeserializeOwned + Default>(path: Option<&Path>) -> Result<T> {
    let Some(path) = path else { return Ok(T::default()) };
    let text = std::fs::read_to_string(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    parse(&text)
        .map_err(|(line, message)| UsageError(format!("{}, line {line}: {message}", path.display())).into())
}

/// Parses TOML text; an error gives the line (from 1) and the message.
pub(crate) fn parse<T: DeserializeOwned>(text: &str) -> std::result::Result<T, (usize, String)> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let line = e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        (line, e.message().trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::prior::PriorConfig;

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let (line, message) = parse::<PriorConfig>("dataset = \"mnist\"\nsigma = 0.1\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("sigma"), "{message}");
        let (line, message) = parse::<PriorConfig>("[training]\nepochs = 3\nlr = 0.1\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("lr"), "{message}");
    }

    #[test]
    fn missing_keys_take_their_defaults() {
        let c: PriorConfig = parse("sigma0 = 0.05\n[training]\nepochs = 3\n").unwrap();
        assert_eq!(c.training.epochs, 3);
        assert_eq!(c.training.batch_size, PriorConfig::default().training.batch_size);
        assert!((c.sigma0 - 0.05).abs() < 1e-15);
    }
}
