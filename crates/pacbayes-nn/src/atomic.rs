//! Files that are whole or absent: written to a temporary sibling, synced, then renamed into place.
//!
//! A process killed at any instant, or a disk that fills up, leaves either the previous file (or no
//! file) or the new one, never a truncated one. The temporary sibling of `dir/name` is
//! `dir/.name.XXXXXX.tmp` (a random infix, so that two writers never share one); a kill can leave one
//! behind, and nothing reads such names. After the rename the folder itself is synced on Unix, so that
//! the rename survives a power loss.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("record.json");
//! pacbayes_nn::atomic::write(&path, b"{}\n")?;
//! pacbayes_nn::atomic::write(&path, b"{\"a\": 1}\n")?; // replaces it
//! // A file that must never be replaced:
//! let again = pacbayes_nn::atomic::write_new(&path, b"{}\n").unwrap_err();
//! assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
//! assert_eq!(std::fs::read(&path)?, b"{\"a\": 1}\n");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written to a temporary sibling of its final path; dropped without
/// [`commit`](AtomicFile::commit), the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    file: NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// An empty temporary sibling of `path`, in the same folder (a rename across file systems would
    /// not be atomic).
    ///
    /// # Errors
    /// The folder does not exist or is not writable (the error has the kind of the system's).
    pub fn create(path: &Path) -> io::Result<Self> {
        let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
        let file = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(folder(path))
            .map_err(plain)?;
        Ok(Self { file, path: path.to_path_buf() })
    }

    /// The temporary file, to write into.
    pub fn as_file_mut(&mut self) -> &mut File {
        self.file.as_file_mut()
    }

    /// The temporary file's path, for writers that take a path (it is replaced by the final path on
    /// [`commit`](AtomicFile::commit)).
    pub fn temporary_path(&self) -> &Path {
        self.file.path()
    }

    /// Syncs the file and renames it to its final path, replacing any file there.
    ///
    /// # Errors
    /// The sync or the rename failed; the temporary file is removed.
    pub fn commit(self) -> io::Result<()> {
        self.place(true)
    }

    /// As [`commit`](AtomicFile::commit), but never replaces a file: a file at the final path, even
    /// one that appears while this one is written, is an error of kind
    /// [`AlreadyExists`](io::ErrorKind::AlreadyExists), and is left as it is.
    ///
    /// # Errors
    /// As [`commit`](AtomicFile::commit), or a file exists at the final path.
    pub fn commit_new(self) -> io::Result<()> {
        self.place(false)
    }

    fn place(self, overwrite: bool) -> io::Result<()> {
        let Self { file, path } = self;
        file.as_file().sync_all()?;
        let placed = if overwrite { file.persist(&path) } else { file.persist_noclobber(&path) };
        // On failure the temporary file comes back inside the error, and dropping it removes it.
        placed.map_err(|e| plain(e.error))?;
        sync_folder(folder(&path))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_file_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_file_mut().flush()
    }
}

/// Writes `bytes` to `path` through a temporary sibling, replacing any file there.
///
/// # Errors
/// The folder is missing or not writable, or the disk is full; `path` is then as it was.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// As [`write`], for a file that must never be replaced: an existing `path` is an error of kind
/// [`AlreadyExists`](io::ErrorKind::AlreadyExists) (checked by the rename itself, not before it).
///
/// # Errors
/// As [`write`], or `path` exists.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit_new()
}

/// Syncs a file written in place (inside a temporary folder that is renamed whole afterwards).
///
/// # Errors
/// The file cannot be opened or synced.
pub fn sync_file(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Syncs the folder `dir`, so that the names created, renamed or removed in it are on disk. A no-op
/// where folders cannot be opened as files (Windows).
///
/// # Errors
/// The folder cannot be opened or synced.
pub fn sync_folder(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Renames the folder (or file) `from` to `to`, then syncs the folder of `to`.
///
/// # Errors
/// The rename failed (`to` exists and is not an empty folder, or another file system), or the sync.
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)?;
    sync_folder(folder(to))
}

/// Whether files can be created in `dir`: a temporary file is created there and removed. A check
/// before long work whose results would be lost to a read-only folder.
///
/// # Errors
/// The folder is missing or not writable.
pub fn check_writable(dir: &Path) -> io::Result<()> {
    AtomicFile::create(&dir.join("write-check")).map(drop)
}

/// The folder `path` is in (`.` for a bare file name).
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The system's error alone, without the temporary path `tempfile` adds to its message (callers name
/// the final path).
fn plain(e: io::Error) -> io::Error {
    if e.raw_os_error().is_some() {
        return e;
    }
    match e.to_string().split_once(" at path ") {
        Some((message, _)) => io::Error::new(e.kind(), message.to_owned()),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_replaces_the_old_one_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write(&path, b"one").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"two, longer").unwrap();
        // Until the commit the old file is intact and the new one is a hidden temporary.
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        let listed = names(dir.path());
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert!(listed[0].starts_with(".a.json.") && listed[0].ends_with(".tmp"), "{listed:?}");
        file.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two, longer");
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn an_abandoned_file_is_removed_and_a_new_file_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert!(names(dir.path()).is_empty());
        write_new(&path, b"first").unwrap();
        let mut late = AtomicFile::create(&path).unwrap();
        late.write_all(b"second").unwrap();
        assert_eq!(late.commit_new().unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(names(dir.path()), ["c.json"], "the refused temporary is removed");
    }

    #[test]
    fn a_folder_that_is_not_one_is_an_error_without_the_temporary_name() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let e = write(&blocker.join("a.json"), b"x").unwrap_err();
        assert!(!e.to_string().contains(".tmp"), "{e}");
        assert!(check_writable(&blocker).is_err() && check_writable(dir.path()).is_ok());
        assert_eq!(names(dir.path()), ["file"]);
    }
}
