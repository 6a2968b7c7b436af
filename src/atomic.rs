//! Writing outputs so that nothing is lost: a temporary file in the target directory,
//! flushed to disk, then renamed over the final name. An interrupted run leaves at most a
//! hidden `.name.pcz-tmp-*` file, never a partial output under the final name. An
//! output that is a device or a pipe (`-o /dev/null`) is written in place: renaming over it
//! would replace the device node with a regular file.

use crate::error::{Error, Result};
use std::fs;
use std::io::Write;
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
    if !force && path.exists() {
        return Err(Error::parameter(format!(
            "{} already exists (use -f to overwrite)",
            path.display()
        )));
    }
    let temp = temp_path(path);
    let result = (|| -> std::io::Result<()> {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(in_path(path, e));
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
