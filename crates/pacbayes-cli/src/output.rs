//! Output folders checked before long work, so that a read-only folder is reported at once rather
//! than after the training whose results it would lose.

use std::path::Path;

use anyhow::Result;

use crate::exit::UsageError;

/// Creates the parent folder of the new file or folder `out` if needed, and checks that files can be
/// created in it.
///
/// # Errors
/// The parent cannot be created (a path through a regular file, for one) or is not writable.
pub(crate) fn check_parent_writable(out: &Path) -> Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if parent.exists() && !parent.is_dir() {
        return Err(UsageError(format!(
            "{}: cannot write into {}: it is not a folder",
            out.display(),
            parent.display()
        ))
        .into());
    }
    std::fs::create_dir_all(parent)
        .and_then(|()| pacbayes_nn::atomic::check_writable(parent))
        .map_err(|e| UsageError(format!("{}: cannot write into {}: {e}", out.display(), parent.display())))?;
    Ok(())
}

/// Checks that files can be created in the existing folder `dir`.
///
/// # Errors
/// The folder is not writable.
pub(crate) fn check_writable(dir: &Path) -> Result<()> {
    pacbayes_nn::atomic::check_writable(dir)
        .map_err(|e| UsageError(format!("{}: cannot write files here: {e}", dir.display())))?;
    Ok(())
}
