//! Exit statuses and one-line error messages.

use std::process::ExitCode;

/// An error caused by the user's input (exit status 2), with a message that says what was expected.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// True when some error in the chain was caused by the input rather than by the program.
fn caused_by_input(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause.is::<pacbayes_bounds::Error>()
            || cause.downcast_ref::<pacbayes_data::Error>().is_some_and(pacbayes_data::Error::is_input)
            || cause.downcast_ref::<pacbayes_prior::Error>().is_some_and(pacbayes_prior::Error::is_input)
            || cause.downcast_ref::<pacbayes_nn::Error>().is_some_and(pacbayes_nn::Error::is_input)
            || cause
                .downcast_ref::<pacbayes_posterior::Error>()
                .is_some_and(pacbayes_posterior::Error::is_input)
            || cause.downcast_ref::<pacbayes_eval::Error>().is_some_and(pacbayes_eval::Error::is_input)
            || cause
                .downcast_ref::<pacbayes_pipeline::Error>()
                .is_some_and(pacbayes_pipeline::Error::is_input)
            || cause.downcast_ref::<std::io::Error>().is_some_and(pacbayes_pipeline::is_environment)
    })
}

/// Prints `error: …` on one line and returns 2 for input errors, 1 otherwise.
pub(crate) fn failure(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", one_line(&message(err)));
    if caused_by_input(err) { ExitCode::from(2) } else { ExitCode::from(1) }
}

/// Help and version go to stdout with status 0; every parse error becomes one line with status 2.
pub(crate) fn clap_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        print!("{err}");
        return ExitCode::SUCCESS;
    }
    if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        eprint!("{err}");
        return ExitCode::from(2);
    }
    let text = err.to_string();
    let kept: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .collect();
    eprintln!("{}", one_line(&kept.join(" ")));
    ExitCode::from(2)
}

/// The causes of `err` joined by `: `, each said once: an error whose message already quotes its
/// source (`FILE: No such file or directory`) is not followed by that source again.
fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let said = cause.to_string();
        if text.contains(&said) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&said);
    }
    text
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
