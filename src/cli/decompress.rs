//! `pcz decompress`: a `.pcz` container back to the identical original bytes.

use super::eval::read_model;
use super::files::{each_input, read_input, remove_verified_input, OutputArgs, Sink};
use super::progress::Progress;
use crate::container::{self, Limits};
use crate::{Circuit, Error, Result};
use clap::Args;
use std::path::{Path, PathBuf};

/// Decompress a .pcz file (default output: the name without .pcz). Every chunk and the
/// whole content are checked against their checksums.
///
/// Several files are decompressed one after another, each to its own name (or, with -c,
/// one after another to stdout); an error on one is reported and the others still go
/// through (the exit code is then 1).
///
/// Examples:
///   pcz decompress --model mnist.pcm t10k.pcz -o t10k.out
///   pcz decompress *.pcz
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DecompressArgs {
    /// Files to decompress (`-` for stdin).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Model file, for containers that reference one.
    #[arg(short, long)]
    pub model: Option<PathBuf>,
    /// Refuse outputs larger than this many MiB, before allocating anything. Decoding holds
    /// about twice the output, plus per thread (-T) one chunk's coding state: up to 280 MiB
    /// for pcmix chunks, 108 MB for cm chunks, a few MB for the others.
    #[arg(long, default_value_t = 4096, value_name = "MIB")]
    pub memory_limit: u64,
}

/// Runs `pcz decompress`.
pub fn run(args: &DecompressArgs, progress: &Progress) -> Result<()> {
    let model = args.model.as_deref().map(read_model).transpose()?;
    each_input(&args.inputs, |path| {
        decompress_one(args, path, model.as_ref(), progress)
    })
}

/// Decompresses the file at `path` (`-`: stdin), with the circuit `model` if given.
fn decompress_one(
    args: &DecompressArgs,
    path: &Path,
    model: Option<&Circuit>,
    progress: &Progress,
) -> Result<()> {
    let sink = Sink::choose(path, args.out.output.as_deref(), args.out.stdout, strip_ext)?;
    sink.check_free(args.out.force)?;
    let packed = read_input(path)?;
    let limits = Limits {
        max_output: args.memory_limit.saturating_mul(1 << 20),
    };
    let spinner = progress.spinner(&format!("{}: decompressing", path.display()));
    let started = std::time::Instant::now();
    let in_file = |e| super::in_file(path, e);
    let parsed = container::parse(&packed, &limits).map_err(in_file)?;
    let mut out = container::decompress(&parsed, model).map_err(in_file)?;
    if parsed.header.png_pixels {
        out = crate::data::png::pnm_to_png(&out, limits.max_output).map_err(in_file)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let sizes = format!("{} -> {} bytes", packed.len(), out.len());
    progress.log(
        &spinner,
        format!("{}: {sizes} in {seconds:.2} s", path.display()),
    );
    spinner.finish_and_clear();
    sink.write(&out, args.out.force)?;
    if args.out.rm {
        remove_verified_input(path, &sink, progress)?;
    }
    Ok(())
}

fn strip_ext(p: &Path) -> Result<PathBuf> {
    match p.to_str().and_then(|s| s.strip_suffix(".pcz")) {
        Some(stem) if !stem.is_empty() => Ok(PathBuf::from(stem)),
        _ => Err(Error::parameter(format!(
            "{}: unknown suffix (expected .pcz); give -o FILE",
            p.display()
        ))),
    }
}
