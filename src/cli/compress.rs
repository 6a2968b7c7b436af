//! `pcz compress`: a file in, a `.pcz` container out.

use super::eval::read_model;
use super::files::{each_input, read_input, remove_verified_input, OutputArgs, Sink};
use super::progress::Progress;
use crate::auto::{self, AutoOptions, Outcome};
use crate::circuit::Quantization;
use crate::container::{self, CompressOptions, Limits, ModelMode};
use crate::data::IdxHeader;
use crate::{Circuit, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Compress a file into a .pcz container (default output: FILE.pcz).
///
/// Without --model, pcz trains a small circuit on the file itself and embeds it. It first
/// detects the layout: an IDX file (header kept verbatim, one item per record), a raw
/// PGM/PPM image (header kept, records are runs of a few pixels), a 16-bit WAV (header
/// kept, records are runs of samples, two bytes each) or plain bytes (records of a fixed
/// width: the line length of fixed-width text such as FASTA, else a few small widths, or
/// --record-size). It then learns a Hidden Chow-Liu Tree per candidate width on a sample of
/// records, scores it on held-out records plus the model's own size, and keeps the best.
/// The file is also compressed without a model; the smaller of the two is written, so pcz
/// never loses to its fallback codec (zstd -19). --level trades time for size.
///
/// With --model, records of the model's size are coded by the circuit (an IDX header is
/// detected and kept verbatim); the container references the model by hash, or embeds it
/// with --embed-model.
///
/// Either way each chunk is stored with whichever codec is smallest: the circuit, the
/// circuit mixed with context models learnt on the chunk itself (pcmix, which gains more
/// on larger chunks: see --chunk-records), zstd, or the raw bytes, so a pcz file is never
/// much larger than its input. pcmix decodes several times slower than the circuit alone
/// when the circuit is small, so without --model it is used at --level 3-6 only where it
/// saves at least 3% over every other choice, zstd -19 of the whole file included (tried
/// on a sample first), with half its context models (about 1.4x faster, about as small
/// with a self-trained circuit); at 7-9 wherever it is smaller, with all of them, as with
/// --model; and never at 1-2. Without --model, a chunk the circuit does not code may also
/// go to cm, a context-mixing model of the byte stream (orders 1-6, words, repeats): 12-22%
/// below xz -9e on English text, but it decodes at only 1-2 MB/s, so it is kept only where
/// it saves at least 3% over zstd -19, and at --level 3-4 only on plain bytes (text, not
/// a detected image, WAV or IDX) up to 512 KiB (from 5 on any; never at 1-2).
///
/// A PNG is compressed byte for byte like any file, which gains little: its pixels are
/// already deflated. With --pixels pcz codes the decoded pixels instead, as an image codec
/// does, and decompresses to a PNG with the same pixels but not the same bytes.
///
/// Several files are compressed one after another, each to its own FILE.pcz; an error on
/// one is reported and the others still go through (the exit code is then 1).
///
/// Examples:
///   pcz compress ecoli.fa                                        # -> ecoli.fa.pcz
///   pcz compress *.wav                                           # each -> .wav.pcz
///   pcz compress -6 camera.pgm                                   # slower, smaller
///   pcz compress --pixels photo.png                              # -> photo.png.pcz
///   pcz compress --record-size 12 table.bin                      # records of 12 bytes
///   pcz compress --model mnist.pcm t10k-images-idx3-ubyte        # -> ...-ubyte.pcz
///   cat x | pcz compress - -c > x.pcz
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompressArgs {
    /// Files to compress (`-` for stdin).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Model file (from `pcz train`) whose circuit codes the records.
    #[arg(short, long)]
    pub model: Option<PathBuf>,
    /// Put the model inside the output (self-contained file) instead of a reference:
    /// `exact` (the default) stores the model file as it is; `compact` stores its weights
    /// quantized and entropy-coded, choosing the quantization that gives the smallest file
    /// on a sample of the records (much smaller, codes slightly worse).
    #[arg(long, requires = "model", value_name = "exact|compact", num_args = 0..=1, require_equals = true,
          default_missing_value = "exact")]
    pub embed_model: Option<Embed>,
    /// Records per chunk with --model (default: about 4 MiB of records, e.g. 5,349 MNIST
    /// images): chunks are coded and decoded in parallel and alone. pcmix learns within a
    /// chunk, so smaller chunks (finer random access, more parallelism) code larger.
    #[arg(long, value_name = "N")]
    pub chunk_records: Option<usize>,
    /// Effort without --model, 1 (fastest) to 9 (smallest), also written -1 to -9 as in
    /// zstd and xz: higher levels try more record widths and hidden sizes, and train
    /// longer on larger samples; from 5, text and other byte streams of any size may go to
    /// the slower, smaller cm codec (at 3-4 plain bytes up to 512 KiB).
    #[arg(short = 'l', long, default_value_t = crate::auto::DEFAULT_LEVEL, value_name = "1..9",
          value_parser = clap::value_parser!(u8).range(1..=9), conflicts_with = "model")]
    pub level: u8,
    /// Bytes per record without --model, instead of the detected or searched widths (a
    /// detected header is still kept verbatim). Use the size of a fixed-size row or struct.
    #[arg(long, value_name = "D", conflicts_with = "model",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub record_size: Option<usize>,
    /// PNG input: code its pixels, not its bytes. Decompression writes a PNG with the same
    /// pixels, not the same file: metadata (text, colour profile) and the original deflate
    /// settings are not kept. 8-bit gray or RGB PNGs only; if the pixels do not compress
    /// below the PNG's own size, the PNG's bytes are kept instead.
    #[arg(long, conflicts_with_all = ["model", "rm"])]
    pub pixels: bool,
    /// Print sizes and bits per dimension (actual and the model's ideal) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `pcz compress`.
pub fn run(args: &CompressArgs, progress: &Progress) -> Result<()> {
    let model = args.model.as_deref().map(read_model).transpose()?;
    each_input(&args.inputs, |path| {
        compress_one(args, path, model.as_ref(), progress)
    })
}

/// Compresses the file at `path` (`-`: stdin) with the circuit `model`, if any.
fn compress_one(
    args: &CompressArgs,
    path: &Path,
    model: Option<&Circuit>,
    progress: &Progress,
) -> Result<()> {
    let input = read_input(path)?;
    let sink = Sink::choose(path, args.out.output.as_deref(), args.out.stdout, |p| {
        Ok(append_ext(p))
    })?;
    sink.check_free(args.out.force)?;
    let mode = match (args.embed_model, model) {
        (Some(Embed::Exact), _) => ModelMode::Embed,
        (Some(Embed::Compact), Some(circuit)) => {
            ModelMode::EmbedCompact(compact_quantization(circuit, &input)?)
        }
        _ => {
            let name = args
                .model
                .as_deref()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned());
            ModelMode::Reference(name.unwrap_or_default())
        }
    };
    let name = path.display();
    let spinner = progress.spinner(&format!("{name}: compressing {} bytes", input.len()));
    let started = Instant::now();
    let (packed, auto) = match model {
        Some(circuit) => {
            let options = CompressOptions {
                model: Some((circuit, mode)),
                prefix_len: idx_prefix(&input, circuit.dims()),
                row: idx_row(&input),
                chunk_records: args.chunk_records,
                ..Default::default()
            };
            (container::compress(&input, &options)?, None)
        }
        None => {
            let mut note = |m: String| {
                let at = started.elapsed().as_secs_f64();
                progress.log(&spinner, format!("{name}: {m} (at {at:.2} s)"));
                spinner.set_message(m);
            };
            let outcome =
                self_trained(args, &input, &mut note).map_err(|e| super::in_file(path, e))?;
            (outcome.packed.clone(), Some(outcome))
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let sizes = format!("{} -> {} bytes", input.len(), packed.len());
    progress.log(&spinner, format!("{name}: {sizes} in {seconds:.2} s"));
    spinner.finish_and_clear();
    if args.out.rm {
        verify(&packed, &input, model)?;
    }
    sink.write(&packed, args.out.force)?;
    if args.out.rm {
        remove_verified_input(path, &sink, progress)?;
    }
    if args.json {
        let mut json = report(&input, &packed, model, seconds)?;
        json["input"] = path.display().to_string().into();
        if let Some(outcome) = &auto {
            json["auto"] = auto_report(outcome);
        }
        outln!("{json}")?;
    }
    Ok(())
}

/// How `--embed-model` stores the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Embed {
    /// The model file, f32 weights.
    Exact,
    /// Quantized counts, entropy-coded (format-spec section 2.2).
    Compact,
}

/// The quantization of `circuit` that gives the smallest file for the records of `input`
/// (after an IDX header) whose values the circuit accepts.
fn compact_quantization(circuit: &Circuit, input: &[u8]) -> Result<Quantization> {
    let d = circuit.dims();
    let body = &input[idx_prefix(input, d)..];
    let alphabet = circuit.alphabet();
    let fits = |r: &&[u8]| r.iter().zip(alphabet).all(|(&x, &k)| u16::from(x) < k);
    let values: Vec<u8> = body
        .chunks_exact(d)
        .filter(fits)
        .flatten()
        .copied()
        .collect();
    if values.is_empty() {
        return Err(crate::Error::parameter(
            "no record fits the model's alphabet: nothing for a compact model to code",
        ));
    }
    let records = crate::Dataset::with_alphabet(d, values, alphabet.to_vec())?;
    auto::policy::choose_quantization(circuit, &records)
}

/// Compression with no model given: of the pixels with --pixels (unless the PNG's own bytes
/// come out smaller), else of the bytes.
fn self_trained(
    args: &CompressArgs,
    input: &[u8],
    note: &mut dyn FnMut(String),
) -> Result<Outcome> {
    let mut options = AutoOptions {
        level: args.level,
        record_size: args.record_size,
        png_pixels: false,
    };
    if args.pixels {
        let pixels = crate::data::png::png_to_pnm(input, crate::data::DEFAULT_LIMIT)?;
        options.png_pixels = true;
        let outcome = auto::compress(&pixels, &options, note)?;
        if outcome.packed.len() < input.len() {
            return Ok(outcome);
        }
        note("the pixels do not compress below the PNG: keeping its bytes".into());
        options.png_pixels = false;
    }
    auto::compress(input, &options, note)
}

fn append_ext(p: &Path) -> PathBuf {
    let mut name = p.as_os_str().to_owned();
    name.push(".pcz");
    PathBuf::from(name)
}

/// Length of an IDX header to keep verbatim when the file is an IDX whose records have the
/// model's size; 0 otherwise.
fn idx_prefix(bytes: &[u8], dims: usize) -> usize {
    match IdxHeader::parse(bytes) {
        Ok(h)
            if h.record_len() == Some(dims as u64)
                && h.data_len().map(|n| n + h.header_len as u64) == Some(bytes.len() as u64) =>
        {
            h.header_len
        }
        _ => 0,
    }
}

/// The row stride of IDX items of two or more dimensions (their last dimension), for the
/// pcmix codec's spatial contexts; 0 otherwise.
fn idx_row(bytes: &[u8]) -> usize {
    match IdxHeader::parse(bytes) {
        Ok(h) if h.dims.len() > 2 => h.dims[h.dims.len() - 1] as usize,
        _ => 0,
    }
}

fn verify(packed: &[u8], input: &[u8], model: Option<&Circuit>) -> Result<()> {
    let parsed = container::parse(packed, &Limits::default())?;
    if container::decompress(&parsed, model)? != input {
        return Err(crate::Error::parameter(
            "verification failed: output does not decompress to the input; input kept",
        ));
    }
    Ok(())
}

/// What self-training chose, for `--json`.
fn auto_report(outcome: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "kind": outcome.kind,
        "prefix_bytes": outcome.prefix_len,
        "record_size": outcome.record_size,
        "transform": outcome.transform,
        "model": outcome.model,
        "fallback_bytes": outcome.fallback_bytes,
    })
}

fn report(
    input: &[u8],
    packed: &[u8],
    model: Option<&Circuit>,
    seconds: f64,
) -> Result<serde_json::Value> {
    let parsed = container::parse(packed, &Limits::default())?;
    let h = &parsed.header;
    let dims = (h.record_count * u64::from(h.record_size)) as f64;
    let payload: usize = parsed.payloads.iter().map(|p| p.len()).sum();
    let model_bpd = model.map(|c| {
        let d = c.dims();
        let prefix_len = h.prefix.len();
        let body = &input[prefix_len..prefix_len + h.record_count as usize * d];
        crate::Dataset::with_alphabet(d, body.to_vec(), c.alphabet().to_vec())
            .map(|data| c.params().bits_per_dim(&data))
            .ok()
    });
    Ok(serde_json::json!({
        "input_bytes": input.len(),
        "output_bytes": packed.len(),
        "ratio": input.len() as f64 / packed.len().max(1) as f64,
        "records": h.record_count,
        "record_size": h.record_size,
        "chunks": h.chunks.len(),
        "pc_chunks": h.chunks.iter().filter(|c| c.codec == container::Codec::Pc).count(),
        "pcmix_chunks": h.chunks.iter().filter(|c| c.codec.scheme().is_some()).count(),
        "payload_bytes": payload,
        "actual_bpd": if dims > 0.0 { 8.0 * payload as f64 / dims } else { 0.0 },
        "file_bpd": if dims > 0.0 { 8.0 * packed.len() as f64 / dims } else { 0.0 },
        "model_bpd": model_bpd.flatten(),
        "seconds": seconds,
    }))
}
