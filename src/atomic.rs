//! Writing outputs so that nothing is lost: a temporary file in the target directory,
//! flushed to disk, then published under the final name, and the directory entry flushed
//! too. An interrupted run leaves at most a hidden `.name.pcz-tmp-*` file, never a partial
//! output under the final name. An output that is a device or a pipe (`-o /dev/null`) is
//! written in place: renaming over it would replace the device node with a regular file.

use crate::error::{Error, Result};
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically. Refuses to replace an existing file unless `force`;
/// a device or pipe is written in place, with or without `force` (nothing is replaced).
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    if is_special(path) {
        return fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| in_path(path, e));
    }
    let temp = temp_path(path);
    let written = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    let published = written.map_err(|e| in_path(path, e)).and_then(|()| {
        publish(&temp, path, force)?;
        sync_dir(path).map_err(|e| in_path(path, e))
    });
    if published.is_err() {
        let _ = fs::remove_file(&temp);
    }
    published
}

/// Gives the written `temp` its final name `path`. Without `force` this is a hard link,
/// which fails if `path` exists, so that a file created there meanwhile (by another run)
/// is never replaced, as it could be between a check and a rename; then `temp` goes. On a
/// file system without hard links (FAT, some network mounts) it falls back to that check
/// and a rename. With `force`, a rename replaces any file at `path`.
fn publish(temp: &Path, path: &Path, force: bool) -> Result<()> {
    if !force {
        match fs::hard_link(temp, path) {
            Ok(()) => return fs::remove_file(temp).map_err(|e| in_path(path, e)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(exists(path)),
            Err(_) if path.exists() => return Err(exists(path)),
            Err(_) => {}
        }
    }
    fs::rename(temp, path).map_err(|e| in_path(path, e))
}

/// Fails, before any work is done, when `path` is an existing file (not a device or pipe,
/// which is written in place) and `force` is not set: the error [`write_atomic`] would give.
pub fn check_free(path: &Path, force: bool) -> Result<()> {
    match !force && !is_special(path) && path.exists() {
        true => Err(exists(path)),
        false => Ok(()),
    }
}

fn exists(path: &Path) -> Error {
    Error::parameter(format!(
        "{} already exists (use -f to overwrite)",
        path.display()
    ))
}

/// Flushes the directory holding `path`, so that its new entry survives a crash as the
/// file's contents do. Only Unix can open a directory for that.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    if cfg!(unix) {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// True when `path` exists (through symlinks) and is neither a regular file nor a
/// directory: a device, a pipe or a socket.
pub fn is_special(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// `e`, naming `path`.
fn in_path(path: &Path, e: std::io::Error) -> Error {
    Error::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = format!(".{name}.pcz-tmp-{}", std::process::id());
    path.with_file_name(unique)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        write_atomic(&p, b"one", false).unwrap();
        assert!(write_atomic(&p, b"two", false).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"two", true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn a_file_created_after_the_output_was_written_is_not_replaced() {
        // Another run creates the output between this run's writing and publishing.
        let dir = tempfile::tempdir().unwrap();
        let (temp, out) = (dir.path().join(".out.tmp"), dir.path().join("out"));
        fs::write(&temp, b"late").unwrap();
        fs::write(&out, b"first").unwrap();
        let e = publish(&temp, &out, false).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        assert_eq!(fs::read(&out).unwrap(), b"first");
        publish(&temp, &out, true).unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"late");
        assert!(!temp.exists());
    }

    #[test]
    fn a_failed_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        assert!(
            write_atomic(&out, b"x", true).is_err(),
            "a directory is not replaced"
        );
        assert!(write_atomic(&out, b"x", false).is_err());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "only the directory"
        );
        // A relative name in the working directory has no parent to flush but ".".
        assert!(sync_dir(Path::new("out")).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place() {
        let null = Path::new("/dev/null");
        assert!(is_special(null));
        // Without -f an existing regular file is refused, so success means in place (and
        // a failure of this test cannot replace the device).
        write_atomic(null, b"discarded", false).unwrap();
        assert!(is_special(null), "/dev/null is still a device");
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_special(dir.path()) && !is_special(&dir.path().join("absent")));
    }
}
