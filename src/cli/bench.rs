//! `pcz bench FILE...`: the peers on the caller's files (records, or image files each on
//! its own), as a table, and on request as JSON, CSV and an SVG chart.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::bench::external::{self, ImageView, ToolFinder};
use crate::bench::images::{self, ImageFile};
use crate::bench::machine::Machine;
use crate::bench::pcz::{Pcz, PczOptions, SelfTrained};
use crate::bench::report::Report;
use crate::bench::{peers, plot, run, select, Availability, Corpus, Measurement, Peer, Shape};
use crate::data::{self, Dataset, Format, IdxHeader, Layout, LoadOptions};
use crate::{Error, Result};

/// Compare pcz with other compressors on the same bytes: ratio, bits, speed, every result
/// verified by a round trip.
///
/// pcz learns a circuit on the training split (--train, else the input itself) and codes
/// the records with it; zstd, xz, brotli, bzip2 and deflate run in process, cjxl, cwebp,
/// optipng and zpaq when installed; all on the whole set and on every record alone. IDX
/// files (.gz too) are read as records of their image shape.
///
/// With no FILE: the bundled MNIST sample (train on 10,000 images, code 200 others).
///
/// Image mode: when every FILE is an image (PNG, PGM or PPM, told by content) and no
/// records option (--record-size, --shape, --skip-bytes, --train, --model) is given, each
/// image is coded alone at its own size and colour type. pcz compresses it as
/// `pcz compress --pixels --level L` does (a circuit trained on the image and embedded, so
/// the model counts in the size), stream compressors get the raw pixels (row-major, RGB
/// interleaved), cjxl, cwebp and optipng the image; zstd with a dictionary is skipped (no
/// training split). Sizes are in bits per subpixel; --json adds every image's size per
/// compressor.
///
/// "peak MB" is the most memory this process held during a row's round trips (the corpus
/// and a given model included), for the compressors that run inside it, where Linux
/// reports it; external programs show "-".
///
/// Examples:
///   pcz bench
///   pcz bench photos/*.png --repeat 1 --json images.json
///   pcz bench photos/*.png --level 6 --peers pcz,cjxl-9,cwebp
///   pcz bench t10k-images-idx3-ubyte.gz --train train-images-idx3-ubyte.gz --hidden 32
///   pcz bench t10k-images-idx3-ubyte.gz --train train-images-idx3-ubyte.gz --model mnist.pcm
///   pcz bench data.bin --record-size 64 --json out.json --csv out.csv --plot out.svg
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BenchArgs {
    /// Files to compress (default: the bundled MNIST test sample). IDX files give records
    /// of their image shape; image files are benched as images (see above); other files
    /// are split by --record-size or --shape, or are one record each.
    pub files: Vec<PathBuf>,
    /// Bytes per record (e.g. 784 for MNIST).
    #[arg(long, value_name = "D",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
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
    /// Code with this trained model (from `pcz train`) instead of training one; its file
    /// size is reported like a dictionary's. The training options below are then unused.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["hidden", "epochs", "full_epochs"])]
    pub model: Option<PathBuf>,
    /// Hidden states of the pcz circuit (larger: smaller output, slower).
    #[arg(long, value_name = "M", default_value_t = 16)]
    pub hidden: usize,
    /// Mini-batch EM epochs of the pcz circuit.
    #[arg(long, default_value_t = 8)]
    pub epochs: usize,
    /// Full-batch EM epochs of the pcz circuit.
    #[arg(long, default_value_t = 1)]
    pub full_epochs: usize,
    /// Image mode only: the pcz row's effort, as `pcz compress --level` (1 fastest to 9
    /// smallest). Records are coded by the circuit the options above train.
    /// (default 3)
    #[arg(short = 'l', long, value_name = "1..9", value_parser = clap::value_parser!(u8).range(1..=9))]
    pub level: Option<u8>,
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
    let report = match image_files(args)? {
        Some((files, corpus)) => bench_images(args, files, &corpus)?,
        None => bench_records(args)?,
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

/// The image files and their pixels, when every FILE is an image and no option asks for
/// records (so a PGM can still be benched as records of a chosen size).
fn image_files(args: &BenchArgs) -> Result<Option<(Vec<ImageFile>, Corpus)>> {
    let records_asked = args.record_size.is_some()
        || args.shape.is_some()
        || args.skip_bytes > 0
        || !args.train.is_empty()
        || args.model.is_some();
    if args.files.is_empty() || records_asked {
        return Ok(None);
    }
    images::read(&args.files)
}

/// Image mode: pcz as `pcz compress` with no model, the stream peers on the raw pixels and
/// the image codecs on the images, every image alone.
fn bench_images(args: &BenchArgs, files: Vec<ImageFile>, corpus: &Corpus) -> Result<Report> {
    let mut all = vec![Peer {
        key: "pcz",
        availability: Availability::Ready(Box::new(SelfTrained::new(
            args.level.unwrap_or(crate::auto::DEFAULT_LEVEL),
        ))),
        per_record_skip: None,
    }];
    all.extend(peers::catalogue(None)?);
    all.extend(external::catalogue(
        &ToolFinder::from_env(),
        ImageView::Files,
    ));
    let rows = run::run(
        select(all, &args.peers)?,
        corpus,
        None,
        args.repeat,
        progress,
    )?;
    Ok(Report {
        input: format!(
            "{}: {}, each coded alone",
            names(&args.files),
            images::summary(&files)
        ),
        unit: "bits/subpixel".to_string(),
        repeat: args.repeat,
        machine: Machine::detect(),
        images: files,
        rows,
    })
}

/// Records mode: the files (or the bundled MNIST sample) as records of one size.
fn bench_records(args: &BenchArgs) -> Result<Report> {
    if args.level.is_some() {
        return Err(Error::parameter(
            "--level sets the effort of image mode (every FILE an image); records are coded \
             by the circuit that --hidden, --epochs and --full-epochs train",
        ));
    }
    let (files, train_files) = if args.files.is_empty() {
        let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/mnist");
        if !bundled.is_dir() {
            return Err(Error::parameter(format!(
                "no FILE given and the bundled sample {} is missing",
                bundled.display()
            )));
        }
        (
            vec![bundled.join("test-200-idx3-ubyte.gz")],
            vec![bundled.join("train-10000-idx3-ubyte.gz")],
        )
    } else {
        (args.files.clone(), args.train.clone())
    };
    let (idx_size, idx_shape) = idx_layout(&files)?;
    let shape = args.shape.or(idx_shape);
    let record_size = args.record_size.or(shape.map(|s| s.pixels())).or(idx_size);
    let test = load(&files, args.skip_bytes, record_size, shape)?;
    let train = match train_files.is_empty() {
        true => None,
        false => Some(load(&train_files, args.skip_bytes, record_size, shape)?),
    };
    let mut all = Vec::new();
    if let Some(d) = record_size {
        let pcz = match &args.model {
            Some(path) => Pcz::with_model(super::eval::read_model(path)?, d)
                .map_err(|e| super::in_file(path, e))?,
            None => Pcz::new(
                PczOptions {
                    hidden: args.hidden.max(1),
                    epochs: args.epochs,
                    full_epochs: args.full_epochs,
                    seed: 0,
                },
                d,
            ),
        };
        let pcz = pcz.with_row(shape.map_or(0, |s| s.cols));
        all.push(Peer {
            key: "pcz",
            availability: Availability::Ready(Box::new(pcz)),
            per_record_skip: None,
        });
    } else if args.model.is_some() {
        return Err(Error::parameter(
            "--model needs records: give --record-size or --shape, or an IDX file",
        ));
    }
    all.extend(peers::catalogue(Some(args.dict_size))?);
    all.extend(external::catalogue(&ToolFinder::from_env(), shape.into()));
    let chosen = select(all, &args.peers)?;
    let rows = run::run(chosen, &test, train.as_ref(), args.repeat, progress)?;
    Ok(Report {
        input: describe(&files, &test, record_size),
        unit: if record_size.is_some() {
            "bits/dim"
        } else {
            "bits/byte"
        }
        .to_string(),
        repeat: args.repeat,
        machine: Machine::detect(),
        images: Vec::new(),
        rows,
    })
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
        if let Some((_, dataset)) = read_idx(path)? {
            parts.push(dataset.values().to_vec());
            continue;
        }
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

/// An IDX file (plain or gzip) as its header and records; `None` for other files.
fn read_idx(path: &Path) -> Result<Option<(IdxHeader, Dataset)>> {
    let options = LoadOptions::default();
    match data::detect(path, &options) {
        Ok((Format::Idx, _)) => {
            let loaded =
                data::load_detailed(path, &options).map_err(|e| super::in_file(path, e))?;
            match loaded.layout {
                Layout::Idx(header) => Ok(Some((header, loaded.dataset))),
                _ => Ok(None),
            }
        }
        _ => Ok(None),
    }
}

/// Record size and image shape of the first file when it is an IDX file.
fn idx_layout(files: &[PathBuf]) -> Result<(Option<usize>, Option<Shape>)> {
    let Some((header, dataset)) = files.first().map(|f| read_idx(f)).transpose()?.flatten() else {
        return Ok((None, None));
    };
    let shape = match header.dims[..] {
        [_, rows, cols] => Some(Shape {
            rows: rows as usize,
            cols: cols as usize,
        }),
        _ => None,
    };
    Ok((Some(dataset.dims()), shape))
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
    let shape = match (corpus.shape(), record_size) {
        (Some(s), _) => format!("{} records of {}x{}", corpus.len(), s.rows, s.cols),
        (None, Some(d)) => format!("{} records of {d} bytes", corpus.len()),
        (None, None) => format!("{} file(s)", corpus.len()),
    };
    format!("{}: {shape}, {} bytes", names(files), corpus.bytes().len())
}

/// "t10k-images-idx3-ubyte", or "astronaut.png and 11 more".
fn names(files: &[PathBuf]) -> String {
    let mut names = images::file_name(&files[0]);
    if files.len() > 1 {
        names.push_str(&format!(" and {} more", files.len() - 1));
    }
    names
}
