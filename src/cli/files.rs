//! Input and output plumbing shared by compress and decompress: `-` for stdin/stdout,
//! default output names, atomic writes, and `--rm` only after verification.

use super::progress::Progress;
use crate::{Error, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Output options shared by compress and decompress (zstd's habits).
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Output file (`-` for stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write to stdout.
    #[arg(short = 'c', long)]
    pub stdout: bool,
    /// Overwrite an existing output.
    #[arg(short, long)]
    pub force: bool,
    /// Keep the input (the default).
    #[arg(short, long)]
    pub keep: bool,
    /// Delete the input, only after its output was verified and written to a file (with -c
    /// or a device such as /dev/null as output the input is kept).
    #[arg(long, conflicts_with = "keep")]
    pub rm: bool,
}

/// Why several `inputs` cannot go with these output options, if they cannot: one output
/// name (`-o`) cannot serve them all, nor can stdout hold several `.pcz` files
/// (`joins_on_stdout` is false when compressing; decompressed contents can follow one
/// another there, as with `zstd -dc` or `cat`). Stdin can be read once.
pub fn several_inputs_misuse(
    inputs: &[PathBuf],
    out: &OutputArgs,
    joins_on_stdout: bool,
) -> Option<&'static str> {
    if inputs.len() < 2 {
        return None;
    }
    let to_stdout = out.stdout || out.output.as_deref() == Some(Path::new("-"));
    if to_stdout && !joins_on_stdout {
        Some("several inputs need several .pcz files: drop -c (each FILE goes to FILE.pcz)")
    } else if out.output.is_some() && !to_stdout {
        Some("-o names one output, but several inputs were given")
    } else if inputs.iter().filter(|p| *p == Path::new("-")).count() > 1 {
        Some("stdin (`-`) can be read only once")
    } else {
        None
    }
}

/// Runs `one` on each input in turn, as gzip and xz do with several files: an error is
/// reported (naming its file) and the next input still runs, and the run fails at the end
/// if any input did. A single input's error is returned, naming its file too; a broken
/// pipe (stdout closed) ends the run at once.
pub fn each_input(inputs: &[PathBuf], mut one: impl FnMut(&Path) -> Result<()>) -> Result<()> {
    if let [input] = inputs {
        return one(input).map_err(|e| named(input, e));
    }
    let mut failed = 0;
    for input in inputs {
        match one(input) {
            Ok(()) => {}
            Err(e) if super::is_broken_pipe(&e) => return Err(e),
            Err(e) => {
                eprintln!("pcz: {}", named(input, e));
                failed += 1;
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(Error::parameter(format!(
            "{n} of {} inputs failed",
            inputs.len()
        ))),
    }
}

/// `e` with a message that starts with `input`'s name, so that every error report says
/// which file it is about: most already do (see `in_file`), the others get the name in
/// front. A broken pipe is left as it is: it ends the run quietly.
fn named(input: &Path, e: Error) -> Error {
    let name = input.display().to_string();
    if super::is_broken_pipe(&e) || e.to_string().starts_with(&format!("{name}: ")) {
        return e;
    }
    super::in_file(input, e)
}

/// Reads a whole input (`-` = stdin), naming the file in errors.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().lock().read_to_end(&mut bytes)?;
        return Ok(bytes);
    }
    std::fs::read(path).map_err(|e| super::in_file(path, e.into()))
}

/// Where output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// Standard output.
    Stdout,
    /// A file (written atomically).
    File(PathBuf),
}

impl Sink {
    /// `-c`/`-o`/default-name resolution. `default` derives the name from the input.
    pub fn choose(
        input: &Path,
        output: Option<&Path>,
        stdout: bool,
        default: impl FnOnce(&Path) -> Result<PathBuf>,
    ) -> Result<Sink> {
        if stdout || output == Some(Path::new("-")) {
            return Ok(Sink::Stdout);
        }
        if let Some(o) = output {
            return Ok(Sink::File(o.to_path_buf()));
        }
        if input == Path::new("-") {
            return Err(Error::parameter(
                "reading stdin: give -c (write to stdout) or -o FILE",
            ));
        }
        default(input).map(Sink::File)
    }

    /// Refuses an existing output file unless `force`, before the work that would fill it
    /// (the write refuses again, so that a file created meanwhile is never replaced).
    pub fn check_free(&self, force: bool) -> Result<()> {
        match self {
            Sink::Stdout => Ok(()),
            Sink::File(path) => crate::atomic::check_free(path, force),
        }
    }

    /// Writes everything; files atomically, refusing to overwrite unless `force`.
    pub fn write(&self, bytes: &[u8], force: bool) -> Result<()> {
        match self {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()?;
                Ok(())
            }
            Sink::File(path) => crate::atomic::write_atomic(path, bytes, force),
        }
    }
}

/// Deletes `input` (never stdin) after its output, written to `sink`, was verified by the
/// caller. An output on stdout or on a device or pipe (`-o /dev/null`) is not a stored
/// copy, so the input is kept, as `xz -c` and `gzip -c` keep theirs (with a note unless
/// `progress` is quiet).
pub fn remove_verified_input(input: &Path, sink: &Sink, progress: &Progress) -> Result<()> {
    let stored = match sink {
        Sink::Stdout => false,
        Sink::File(path) => !crate::atomic::is_special(path),
    };
    if !stored && !progress.is_quiet() {
        eprintln!(
            "pcz: {}: kept (--rm deletes an input only when its output is a file)",
            input.display()
        );
    } else if stored && input != Path::new("-") {
        std::fs::remove_file(input).map_err(|e| super::in_file(input, e.into()))?;
    }
    Ok(())
}
