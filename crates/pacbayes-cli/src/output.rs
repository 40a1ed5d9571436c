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

/// Removes the temporary files a killed command left in the run folder `dir`: hidden
/// `.NAME.XXXXXX.tmp` files (see [`pacbayes_nn::atomic`]), never read, and as large as the weights
/// they were to become. A command that writes into a run folder is the only one writing there, so
/// none of them is being written.
///
/// # Errors
/// The folder cannot be listed or a temporary file cannot be removed.
pub(crate) fn remove_temporaries(dir: &Path) -> Result<()> {
    let listed = std::fs::read_dir(dir).map_err(|e| UsageError(format!("{}: {e}", dir.display())))?;
    for entry in listed.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_temporary(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        }
    }
    Ok(())
}

/// Whether `name` has the form `.NAME.XXXXXX.tmp` of a temporary sibling.
fn is_temporary(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else { return false };
    inner.rsplit_once('.').is_some_and(|(base, random)| {
        !base.is_empty() && random.len() == 6 && random.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_temporary_siblings_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = pacbayes_nn::atomic::AtomicFile::create(&dir.path().join("posterior.json")).unwrap();
        std::io::Write::write_all(&mut file, b"{").unwrap();
        // A kill leaves the temporary behind (forget: no drop, as after SIGKILL).
        let left = file.temporary_path().to_path_buf();
        std::mem::forget(file);
        assert!(left.is_file());
        for kept in ["posterior.json", ".hidden", ".a.b.tmp", "x.abcdef.tmp"] {
            std::fs::write(dir.path().join(kept), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join(".d.abcdef.tmp")).unwrap();
        remove_temporaries(dir.path()).unwrap();
        assert!(!left.exists());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".a.b.tmp", ".d.abcdef.tmp", ".hidden", "posterior.json", "x.abcdef.tmp"]);
    }
}
