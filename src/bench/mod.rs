//! `pcz bench`: pcz and the compressors a user would otherwise pick, on the same bytes, in
//! the same run, every result verified by a round trip.
//!
//! The pieces:
//! - [`Codec`]: anything that compresses and decompresses byte strings, optionally after
//!   training on a split (a zstd dictionary, a pcz circuit). Peers and pcz implement it alike.
//! - [`Corpus`]: the bytes under test, split into records (and optionally an image shape),
//!   or the pixels of image files, one record per image of its own shape.
//! - [`run::run`]: trains, times and verifies every [`Peer`] and returns one [`Measurement`]
//!   per compressor and [`Variant`]; a failed round trip becomes a [`Status::Failed`] row.
//! - [`report`], [`plot`]: the terminal table, JSON, CSV and the SVG chart.
//! - [`images`]: image files (PNG, PGM/PPM) read as such a corpus.

pub mod external;
pub mod images;
pub mod machine;
pub mod memory;
pub mod pcz;
pub mod peers;
pub mod plot;
pub mod report;
pub mod run;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::data::ImageShape;
use crate::error::{Error, Result};

/// A compressor under test. Implemented by the in-process peers, the external programs and
/// (later) pcz itself, so that all of them are measured by the same code.
pub trait Codec {
    /// The name shown in the table, with the settings that matter ("zstd -19").
    fn name(&self) -> String;

    /// Learns whatever the codec keeps between records (a dictionary, a model) from the
    /// training records. Returns `Some(bytes)` of that state, which a decoder needs and the
    /// report counts separately, or `None` for codecs that learn nothing.
    fn train(&mut self, _records: &[&[u8]]) -> Result<Option<u64>> {
        Ok(None)
    }

    /// True when the codec runs inside this process, so the process's memory is its
    /// memory; false for external programs.
    fn in_process(&self) -> bool {
        true
    }

    /// True when the learned state was given rather than learned by [`Codec::train`] (a
    /// trained model passed in): the report then shows no training time.
    fn pretrained(&self) -> bool {
        false
    }

    /// Compresses one unit (the whole set, or one record) into a self-contained string.
    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>>;

    /// Inverts [`Codec::compress`]; `original_len` bounds the output so corrupt input cannot
    /// make the decoder allocate without limit.
    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>>;

    /// Compresses every record alone, each into what [`Codec::compress`] makes of it. The
    /// default calls that once per record; pcz overrides it to code many records in one
    /// pass over its model. An error carries the index of the record it concerns.
    fn compress_records(&mut self, records: &[&[u8]]) -> RecordsResult {
        one_by_one(records, |r| self.compress(r))
    }

    /// Inverts [`Codec::compress_records`]; `lens` are the records' lengths (bounds, as in
    /// [`Codec::decompress`]).
    fn decompress_records(&mut self, data: &[Vec<u8>], lens: &[usize]) -> RecordsResult {
        one_by_one(&with_lens(data, lens), |&(d, len)| self.decompress(d, len))
    }

    /// Compresses the pixels of one image of `shape` (row-major, channels interleaved).
    /// A stream compressor sees only the bytes, which is what this default does; image
    /// codecs and pcz override it to code the image at its real shape and colour type.
    fn compress_image(&mut self, pixels: &[u8], _shape: ImageShape) -> Result<Vec<u8>> {
        self.compress(pixels)
    }

    /// Inverts [`Codec::compress_image`], returning the pixels.
    fn decompress_image(&mut self, data: &[u8], shape: ImageShape) -> Result<Vec<u8>> {
        self.decompress(data, pixel_count(shape)?)
    }

    /// The ideal code length in bits of `units` under what the codec learned (for a model:
    /// its exact negative log-likelihood), to set next to the real size. `None` for codecs
    /// without such a figure.
    fn ideal_bits(&self, _units: &[&[u8]]) -> Option<f64> {
        None
    }
}

/// How the records are handed to a compressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variant {
    /// All records concatenated and compressed as one stream: the best case for ratio.
    #[serde(rename = "whole set")]
    WholeSet,
    /// Every record compressed on its own and the sizes summed: what random access costs.
    #[serde(rename = "per record")]
    PerRecord,
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Variant::WholeSet => "whole set",
            Variant::PerRecord => "per record",
        })
    }
}

/// The outcome of one row. Only [`Status::Verified`] rows carry sizes and speeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Compressed, decompressed, and the bytes matched in every run.
    #[serde(rename = "verified")]
    Verified,
    /// An error, or decompressed bytes that differ from the input: never a result.
    #[serde(rename = "FAILED")]
    Failed,
    /// The external program is not on PATH.
    #[serde(rename = "not installed")]
    NotInstalled,
    /// Deliberately not run; the row's detail says why.
    #[serde(rename = "skipped")]
    Skipped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Verified => "verified",
            Status::Failed => "FAILED",
            Status::NotInstalled => "not installed",
            Status::Skipped => "skipped",
        })
    }
}

/// One row of the results: a compressor on one [`Variant`] of the corpus. Flat (scalars and
/// options only) so that the same struct is written to and read back from JSON and CSV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Compressor and settings, e.g. "xz -9e".
    pub compressor: String,
    /// Whole set or per record.
    pub variant: Variant,
    /// Outcome; every field below that is a measurement is `None` unless verified.
    pub status: Status,
    /// Why a row failed or was skipped, which tool is missing, or a note on a result.
    pub detail: String,
    /// Bytes of the corpus (the same for every row).
    pub input_bytes: u64,
    /// Sum of the compressed sizes.
    pub output_bytes: Option<u64>,
    /// Learned state the decoder also needs (dictionary, model), counted separately.
    pub extra_bytes: Option<u64>,
    /// Seconds spent learning that state.
    pub train_seconds: Option<f64>,
    /// Compression throughput in MB/s (10^6 bytes of input), median of the repeats.
    pub compress_mb_s: Option<f64>,
    /// Decompression throughput in MB/s (10^6 bytes of output), median of the repeats.
    pub decompress_mb_s: Option<f64>,
    /// Peak resident memory of the bench process during the row's round trips, in MB
    /// (10^6 bytes; see [`memory`]); `None` for external programs and where the system
    /// does not report it.
    #[serde(default)]
    pub peak_mb: Option<f64>,
    /// Ideal code length of the input in bits under the learned model (pcz's theoretical
    /// size), when the codec has one.
    #[serde(default)]
    pub ideal_bits: Option<f64>,
    /// On image files: the compressed size of each image, in the order of the report's
    /// images, so that JSON readers see where a compressor wins or loses. Empty otherwise
    /// (and left out of CSV, which has one flat line per row).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_bytes: Vec<u64>,
}

impl Measurement {
    /// A row with no measurement, for failures, missing tools and skipped variants.
    pub fn unmeasured(
        compressor: String,
        variant: Variant,
        status: Status,
        detail: String,
        input_bytes: u64,
    ) -> Self {
        Measurement {
            compressor,
            variant,
            status,
            detail,
            input_bytes,
            output_bytes: None,
            extra_bytes: None,
            train_seconds: None,
            compress_mb_s: None,
            decompress_mb_s: None,
            peak_mb: None,
            ideal_bits: None,
            image_bytes: Vec::new(),
        }
    }

    /// Input bytes per output byte.
    pub fn ratio(&self) -> Option<f64> {
        self.output_bytes
            .filter(|&out| out > 0)
            .map(|out| self.input_bytes as f64 / out as f64)
    }

    /// Output bits per input byte (bits per dimension when a dimension is a byte).
    pub fn bits_per_byte(&self) -> Option<f64> {
        self.bits_for(self.output_bytes?)
    }

    /// As [`Measurement::bits_per_byte`], with the learned state counted too.
    pub fn bits_per_byte_with_extra(&self) -> Option<f64> {
        self.bits_for(self.output_bytes? + self.extra_bytes.unwrap_or(0))
    }

    fn bits_for(&self, bytes: u64) -> Option<f64> {
        (self.input_bytes > 0).then(|| 8.0 * bytes as f64 / self.input_bytes as f64)
    }
}

/// Rows x columns of one record seen as an 8-bit grey image, for the image codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

impl Shape {
    /// Pixels per record.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }
}

impl FromStr for Shape {
    type Err = Error;

    /// Parses "ROWSxCOLS", e.g. "28x28".
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::parameter(format!("shape {s:?} is not ROWSxCOLS, e.g. 28x28"));
        let (r, c) = s.split_once(['x', 'X']).ok_or_else(bad)?;
        let rows: usize = r.trim().parse().map_err(|_| bad())?;
        let cols: usize = c.trim().parse().map_err(|_| bad())?;
        if rows == 0 || cols == 0 || rows.checked_mul(cols).is_none() {
            return Err(bad());
        }
        Ok(Shape { rows, cols })
    }
}

/// Bytes of one image's pixels, refused when they cannot be held in memory.
/// Outputs of many records, or the index of the record that failed and why.
pub type RecordsResult = std::result::Result<Vec<Vec<u8>>, (usize, Error)>;

/// Applies `f` to every item in order, stopping at the first failure.
fn one_by_one<T>(items: &[T], mut f: impl FnMut(&T) -> Result<Vec<u8>>) -> RecordsResult {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| f(item).map_err(|e| (i, e)))
        .collect()
}

/// Every compressed record with its original length.
fn with_lens<'a>(data: &'a [Vec<u8>], lens: &[usize]) -> Vec<(&'a [u8], usize)> {
    data.iter()
        .map(Vec::as_slice)
        .zip(lens.iter().copied())
        .collect()
}

fn pixel_count(shape: ImageShape) -> Result<usize> {
    usize::try_from(shape.values())
        .map_err(|_| Error::LimitExceeded(format!("an image of {shape} is too large")))
}

/// The bytes under test, split into records. Records are contiguous, so the whole-set
/// variant is simply all the bytes.
#[derive(Debug, Clone)]
pub struct Corpus {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    shape: Option<Shape>,
    /// One shape per record when the records are the pixels of image files, else empty.
    images: Vec<ImageShape>,
}

impl Corpus {
    /// Records of `record_size` bytes each; with a `shape`, its pixel count must equal the
    /// record size.
    pub fn fixed(bytes: Vec<u8>, record_size: usize, shape: Option<Shape>) -> Result<Self> {
        if record_size == 0 {
            return Err(Error::parameter("the record size must be at least 1"));
        }
        if bytes.is_empty() || !bytes.len().is_multiple_of(record_size) {
            return Err(Error::parameter(format!(
                "{} bytes do not split into records of {record_size}",
                bytes.len()
            )));
        }
        if let Some(s) = shape.filter(|s| s.pixels() != record_size) {
            return Err(Error::parameter(format!(
                "shape {}x{} has {} pixels but records have {record_size} bytes",
                s.rows,
                s.cols,
                s.pixels()
            )));
        }
        let ends = (1..=bytes.len() / record_size)
            .map(|n| n * record_size)
            .collect();
        Ok(Corpus {
            bytes,
            ends,
            shape,
            images: Vec::new(),
        })
    }

    /// One record per part, of any sizes (e.g. one per file); no image shape.
    pub fn from_parts(parts: Vec<Vec<u8>>) -> Result<Self> {
        if parts.is_empty() {
            return Err(Error::parameter("nothing to compress: no records"));
        }
        let mut bytes = Vec::new();
        let mut ends = Vec::with_capacity(parts.len());
        for part in parts {
            bytes.extend_from_slice(&part);
            ends.push(bytes.len());
        }
        Ok(Corpus {
            bytes,
            ends,
            shape: None,
            images: Vec::new(),
        })
    }

    /// One record per image: its pixels, row-major with channels interleaved, which must
    /// be as many as its shape says.
    pub fn from_images(images: Vec<(ImageShape, Vec<u8>)>) -> Result<Self> {
        let mut shapes = Vec::with_capacity(images.len());
        let mut parts = Vec::with_capacity(images.len());
        for (shape, pixels) in images {
            if pixels.len() != pixel_count(shape)? {
                return Err(Error::parameter(format!(
                    "{} bytes are not the pixels of a {shape} image",
                    pixels.len()
                )));
            }
            shapes.push(shape);
            parts.push(pixels);
        }
        Ok(Corpus {
            images: shapes,
            ..Self::from_parts(parts)?
        })
    }

    /// All bytes, records in order.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Always false: a corpus has at least one record.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The image shape of a record, if the records are images.
    pub fn shape(&self) -> Option<Shape> {
        self.shape
    }

    /// The shape of every record when the records are images of their own shapes; empty
    /// otherwise.
    pub fn images(&self) -> &[ImageShape] {
        &self.images
    }

    /// The common record size, when all records have the same size.
    pub fn record_size(&self) -> Option<usize> {
        let first = self.ends[0];
        self.records().all(|r| r.len() == first).then_some(first)
    }

    /// The records, in order.
    pub fn records(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(s, &e)| &self.bytes[s..e])
    }

    /// The units a compressor gets under `variant`: one for the whole set, else one per
    /// record.
    pub fn units(&self, variant: Variant) -> Vec<&[u8]> {
        match variant {
            Variant::WholeSet => vec![&self.bytes],
            Variant::PerRecord => self.records().collect(),
        }
    }
}

/// A compressor to run, or the reason it cannot run; either way it yields rows.
pub struct Peer {
    /// Short key used by `--peers` ("zstd-19", "cjxl-9").
    pub key: &'static str,
    /// The codec, or why there is none.
    pub availability: Availability,
    /// Why the per-record variant is not run, if it is not.
    pub per_record_skip: Option<&'static str>,
}

/// Whether a [`Peer`] can run here.
pub enum Availability {
    /// Ready to train and run.
    Ready(Box<dyn Codec>),
    /// A row that says why not, with this compressor name, status and detail.
    Unavailable {
        /// Compressor name for the row.
        name: String,
        /// [`Status::NotInstalled`] or [`Status::Skipped`].
        status: Status,
        /// The missing program, or the reason for skipping.
        detail: String,
    },
}

/// The peers whose keys are listed, in catalogue order; all of them for an empty list.
/// An unknown key is an error that lists the known ones.
pub fn select(all: Vec<Peer>, keys: &[String]) -> Result<Vec<Peer>> {
    if let Some(unknown) = keys
        .iter()
        .find(|k| !all.iter().any(|p| p.key == k.as_str()))
    {
        let known: Vec<&str> = all.iter().map(|p| p.key).collect();
        return Err(Error::parameter(format!(
            "unknown peer {unknown:?}; known peers: {}",
            known.join(", ")
        )));
    }
    Ok(all
        .into_iter()
        .filter(|p| keys.is_empty() || keys.iter().any(|k| k == p.key))
        .collect())
}

#[cfg(test)]
mod image_tests;
#[cfg(test)]
mod tests;
