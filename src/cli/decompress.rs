//! `pcz decompress`: a `.pcz` container back to the identical original bytes.

use super::eval::read_model;
use super::files::{read_input, remove_verified_input, OutputArgs, Sink};
use super::progress::Progress;
use crate::container::{self, Limits};
use crate::{Error, Result};
use clap::Args;
use std::path::{Path, PathBuf};

/// Decompress a .pcz file (default output: the name without .pcz). Every chunk and the
/// whole content are checked against their checksums.
///
/// Example: pcz decompress --model mnist.pcm t10k.pcz -o t10k.out
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DecompressArgs {
    /// File to decompress (`-` for stdin).
    pub input: PathBuf,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Model file, for containers that reference one.
    #[arg(short, long)]
    pub model: Option<PathBuf>,
    /// Refuse outputs larger than this many MiB.
    #[arg(long, default_value_t = 4096, value_name = "MIB")]
    pub memory_limit: u64,
}

/// Runs `pcz decompress`.
pub fn run(args: &DecompressArgs, progress: &Progress) -> Result<()> {
    let sink = Sink::choose(
        &args.input,
        args.out.output.as_deref(),
        args.out.stdout,
        strip_ext,
    )?;
    let packed = read_input(&args.input)?;
    let model = args.model.as_deref().map(read_model).transpose()?;
    let limits = Limits {
        max_output: args.memory_limit.saturating_mul(1 << 20),
    };
    let spinner = progress.spinner("decompressing");
    let parsed = container::parse(&packed, &limits).map_err(|e| super::in_file(&args.input, e))?;
    let mut out = container::decompress(&parsed, model.as_ref())
        .map_err(|e| super::in_file(&args.input, e))?;
    if parsed.header.png_pixels {
        out = crate::data::png::pnm_to_png(&out, limits.max_output)
            .map_err(|e| super::in_file(&args.input, e))?;
    }
    spinner.finish_and_clear();
    sink.write(&out, args.out.force)?;
    if args.out.rm {
        remove_verified_input(&args.input, &sink, progress)?;
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
