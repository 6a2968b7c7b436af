//! `pcz bench FILE...`: the peers on the caller's files, as a table, and on request as
//! JSON, CSV and an SVG chart.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::bench::external::{self, ToolFinder};
use crate::bench::machine::Machine;
use crate::bench::report::Report;
use crate::bench::{peers, plot, run, select, Corpus, Measurement, Shape};
use crate::{Error, Result};

/// Compare compressors on the same bytes: ratio, bits, speed, every result verified.
///
/// Runs zstd, xz, brotli, bzip2 and deflate in process, and cjxl, cwebp, optipng and zpaq
/// when they are installed, on the whole set and on every record alone.
///
/// Example: pcz bench t10k-images-idx3-ubyte --skip-bytes 16 --shape 28x28 --plot mnist.svg
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Files to compress. With --record-size or --shape they are split into records;
    /// otherwise every file is one record.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Bytes per record (e.g. 784 for MNIST).
    #[arg(long, value_name = "D")]
    pub record_size: Option<usize>,
    /// Records are ROWSxCOLS grey images (implies the record size); enables image codecs.
    #[arg(long, value_name = "ROWSxCOLS")]
    pub shape: Option<Shape>,
    /// Bytes to drop from the start of every file, e.g. 16 for an IDX image header.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip_bytes: usize,
    /// Training split for trained peers (zstd dictionary), read like FILE; by default they
    /// train on the input itself.
    #[arg(long, value_name = "FILE")]
    pub train: Vec<PathBuf>,
    /// Size limit of the trained zstd dictionary, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = peers::DEFAULT_DICT_SIZE)]
    pub dict_size: usize,
    /// Runs per measurement; times are medians.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub repeat: usize,
    /// Comma-separated peer keys to run (default: all). Keys: zstd-3, zstd-19, zstd-22,
    /// zstd-dict, xz, brotli, bzip2, deflate, cjxl-7, cjxl-9, cwebp, optipng, zpaq.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub peers: Vec<String>,
    /// Also write the report as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the rows as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also draw size against speed as an SVG chart.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

/// Runs the bench, prints the table, writes the requested files, and fails if any round
/// trip failed (after reporting everything else).
pub fn run(args: &BenchArgs) -> Result<()> {
    let record_size = args.record_size.or(args.shape.map(|s| s.pixels()));
    let test = load(&args.files, args.skip_bytes, record_size, args.shape)?;
    let train = match args.train.is_empty() {
        true => None,
        false => Some(load(&args.train, args.skip_bytes, record_size, args.shape)?),
    };
    let mut all = peers::catalogue(args.dict_size)?;
    all.extend(external::catalogue(&ToolFinder::from_env(), args.shape));
    let chosen = select(all, &args.peers)?;
    let rows = run::run(chosen, &test, train.as_ref(), args.repeat, progress)?;
    let report = Report {
        input: describe(&args.files, &test, record_size),
        unit: if record_size.is_some() {
            "bits/dim"
        } else {
            "bits/byte"
        }
        .to_string(),
        repeat: args.repeat,
        machine: Machine::detect(),
        rows,
    };
    print!("{}", report.table());
    if let Some(path) = &args.json {
        write(path, report.to_json()?.as_bytes())?;
    }
    if let Some(path) = &args.csv {
        write(path, &report.to_csv()?)?;
    }
    if let Some(path) = &args.plot {
        write(path, plot::svg(&report).as_bytes())?;
    }
    match report.failures().count() {
        0 => Ok(()),
        n => Err(Error::Io(std::io::Error::other(format!(
            "{n} round trip(s) failed; see the rows marked FAILED"
        )))),
    }
}

/// One line per finished row on stderr, so a long run shows where it is and what it found.
fn progress(row: &Measurement) {
    let bits = row
        .bits_per_byte()
        .map_or_else(String::new, |b| format!(", {b:.4} bits per byte"));
    eprintln!(
        "  {} ({}): {}{bits}",
        row.compressor, row.variant, row.status
    );
}

/// Reads `files` (dropping `skip` leading bytes of each) into records of `record_size`,
/// or one record per file.
fn load(
    files: &[PathBuf],
    skip: usize,
    record_size: Option<usize>,
    shape: Option<Shape>,
) -> Result<Corpus> {
    let mut parts = Vec::with_capacity(files.len());
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| in_file(path, e))?;
        if bytes.len() < skip {
            return Err(Error::parameter(format!(
                "{}: {} bytes, fewer than --skip-bytes {skip}",
                path.display(),
                bytes.len()
            )));
        }
        if let Some(d) = record_size.filter(|&d| d > 0 && !(bytes.len() - skip).is_multiple_of(d)) {
            return Err(Error::parameter(format!(
                "{}: {} bytes after the first {skip} do not split into records of {d}",
                path.display(),
                bytes.len() - skip
            )));
        }
        parts.push(bytes[skip..].to_vec());
    }
    match record_size {
        Some(d) => Corpus::fixed(parts.concat(), d, shape),
        None => Corpus::from_parts(parts),
    }
}

fn in_file(path: &Path, e: std::io::Error) -> Error {
    Error::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| in_file(path, e))
}

/// "t10k-images-idx3-ubyte: 10000 records of 784 bytes (7840000 bytes)".
fn describe(files: &[PathBuf], corpus: &Corpus, record_size: Option<usize>) -> String {
    let name = |p: &PathBuf| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let mut names = name(&files[0]);
    if files.len() > 1 {
        names.push_str(&format!(" and {} more", files.len() - 1));
    }
    let shape = match (corpus.shape(), record_size) {
        (Some(s), _) => format!("{} records of {}x{}", corpus.len(), s.rows, s.cols),
        (None, Some(d)) => format!("{} records of {d} bytes", corpus.len()),
        (None, None) => format!("{} file(s)", corpus.len()),
    };
    format!("{names}: {shape}, {} bytes", corpus.bytes().len())
}
