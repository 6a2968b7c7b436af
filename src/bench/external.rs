//! Peers that are separate programs (cjxl, cwebp, optipng, zpaq), run once per unit in a
//! fresh temporary directory so that concurrent benches never share files. A program that
//! is not on PATH yields a "not installed" row rather than vanishing from the table.
//!
//! Image codecs get every image file at its own shape and colour type, and every fixed-size
//! record as an 8-bit grey image of its real shape; the whole-set variant of records tiles
//! them into one near-square mosaic (see [`Mosaic`]). Times include writing the input file
//! and starting the process, as they would for a user.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::data::png::{encode_png, pnm_file};
use crate::data::ImageShape;
use crate::error::{Error, Result};

use super::{pixel_count, Availability, Codec, Peer, Shape, Status};

/// What the image codecs can see in the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageView {
    /// Plain bytes: image codecs are skipped.
    Bytes,
    /// Fixed-size records, each a grey image of this shape.
    Records(Shape),
    /// Image files, each of its own shape and colour type.
    Files,
}

impl From<Option<Shape>> for ImageView {
    fn from(shape: Option<Shape>) -> Self {
        shape.map_or(ImageView::Bytes, ImageView::Records)
    }
}

/// Finds programs on a search path. Injectable, so tests can present an empty PATH.
#[derive(Debug, Clone)]
pub struct ToolFinder {
    dirs: Vec<PathBuf>,
}

impl ToolFinder {
    /// Searches the directories of the `PATH` environment variable.
    pub fn from_env() -> Self {
        Self::from_path(std::env::var_os("PATH").unwrap_or_default())
    }

    /// Searches the directories of a PATH-style list.
    pub fn from_path(path: impl Into<OsString>) -> Self {
        let path = path.into();
        ToolFinder {
            dirs: std::env::split_paths(&path).collect(),
        }
    }

    /// The first executable file called `name` on the path.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        self.dirs
            .iter()
            .map(|dir| dir.join(name))
            .find(|candidate| {
                candidate
                    .metadata()
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
    }
}

/// How a unit is handed to the encoder, as the file `in.*` in its working directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputFile {
    /// The bytes themselves, as `in`.
    Raw,
    /// A binary PGM or PPM, as `in.pnm` (the codecs tell them apart by content).
    Pnm,
    /// A PNG, as `in.png`.
    Png,
}

/// One program invocation: program name, arguments (file names are relative to the working
/// directory) and the file it leaves behind.
struct Step {
    program: &'static str,
    args: &'static [&'static str],
    output: &'static str,
}

/// An external peer: how to encode, how to decode (`None`: the compressed file is itself
/// an image read in-process, optipng's PNG).
struct Spec {
    key: &'static str,
    name: &'static str,
    package: &'static str,
    input: InputFile,
    encode: Step,
    decode: Option<Step>,
    per_record_skip: Option<&'static str>,
}

/// djxl picks its writer by the output's name; asked for a `.ppm` it writes a PGM for
/// grey images and a PPM for colour ones.
const JXL_DECODE: Step = Step {
    program: "djxl",
    args: &["out.jxl", "back.ppm", "--num_threads=1", "--quiet"],
    output: "back.ppm",
};

fn specs() -> [Spec; 5] {
    let cjxl = |key, name, args| Spec {
        key,
        name,
        package: "libjxl-tools",
        input: InputFile::Pnm,
        encode: Step {
            program: "cjxl",
            args,
            output: "out.jxl",
        },
        decode: Some(JXL_DECODE),
        per_record_skip: None,
    };
    [
        cjxl(
            "cjxl-7",
            "cjxl -d 0 -e 7",
            &[
                "in.pnm",
                "out.jxl",
                "-d",
                "0",
                "-e",
                "7",
                "--num_threads=1",
                "--quiet",
            ],
        ),
        cjxl(
            "cjxl-9",
            "cjxl -d 0 -e 9",
            &[
                "in.pnm",
                "out.jxl",
                "-d",
                "0",
                "-e",
                "9",
                "--num_threads=1",
                "--quiet",
            ],
        ),
        Spec {
            key: "cwebp",
            name: "cwebp -lossless -z 9",
            package: "webp",
            input: InputFile::Pnm,
            encode: Step {
                program: "cwebp",
                args: &[
                    "-quiet",
                    "-lossless",
                    "-z",
                    "9",
                    "-metadata",
                    "none",
                    "in.pnm",
                    "-o",
                    "out.webp",
                ],
                output: "out.webp",
            },
            decode: Some(Step {
                program: "dwebp",
                args: &["-quiet", "out.webp", "-ppm", "-o", "back.ppm"],
                output: "back.ppm",
            }),
            per_record_skip: None,
        },
        Spec {
            key: "optipng",
            name: "optipng -o7",
            package: "optipng",
            input: InputFile::Png,
            encode: Step {
                program: "optipng",
                args: &[
                    "-quiet", "-o7", "-strip", "all", "-out", "out.png", "in.png",
                ],
                output: "out.png",
            },
            decode: None,
            per_record_skip: None,
        },
        Spec {
            key: "zpaq",
            name: "zpaq -m5",
            package: "zpaq",
            input: InputFile::Raw,
            encode: Step {
                program: "zpaq",
                args: &["a", "out.zpaq", "in", "-m5", "-noattributes", "-t1"],
                output: "out.zpaq",
            },
            decode: Some(Step {
                program: "zpaq",
                args: &["x", "out.zpaq", "in", "-to", "back", "-t1"],
                output: "back",
            }),
            per_record_skip: Some("an archiver: about 1.8 KB and 0.8 s of fixed cost per record"),
        },
    ]
}

/// Every external peer, in table order: ready if its programs are found (and, for image
/// codecs, the corpus holds images), else a row saying why not.
pub fn catalogue(finder: &ToolFinder, view: ImageView) -> Vec<Peer> {
    specs()
        .into_iter()
        .map(|spec| {
            // An image file is large enough for an archiver's fixed cost not to matter.
            let per_record_skip = spec.per_record_skip.filter(|_| view != ImageView::Files);
            Peer {
                key: spec.key,
                availability: availability(spec, finder, view),
                per_record_skip,
            }
        })
        .collect()
}

fn availability(spec: Spec, finder: &ToolFinder, view: ImageView) -> Availability {
    let unavailable = |status, detail| Availability::Unavailable {
        name: spec.name.to_string(),
        status,
        detail,
    };
    let programs = std::iter::once(&spec.encode).chain(&spec.decode);
    let missing: Vec<&str> = programs
        .map(|step| step.program)
        .filter(|p| finder.find(p).is_none())
        .collect();
    if !missing.is_empty() {
        let detail = format!(
            "{} not on PATH (Debian package {})",
            missing.join(", "),
            spec.package
        );
        return unavailable(Status::NotInstalled, detail);
    }
    if spec.input != InputFile::Raw && view == ImageView::Bytes {
        let detail = "an image codec: give the records a shape (--shape ROWSxCOLS)".to_string();
        return unavailable(Status::Skipped, detail);
    }
    let shape = match view {
        ImageView::Records(shape) => Some(shape),
        ImageView::Bytes | ImageView::Files => None,
    };
    Availability::Ready(Box::new(External {
        spec,
        finder: finder.clone(),
        shape,
    }))
}

struct External {
    spec: Spec,
    finder: ToolFinder,
    /// The shape of fixed-size records, for the mosaic; image files bring their own.
    shape: Option<Shape>,
}

impl External {
    fn mosaic(&self, len: usize) -> Result<Mosaic> {
        let shape = self
            .shape
            .ok_or_else(|| Error::parameter(format!("{} needs an image shape", self.spec.name)))?;
        Mosaic::new(len, shape)
    }

    /// Runs `step` in `dir` and returns the path of the file it must leave behind.
    fn run(&self, step: &Step, dir: &Path) -> Result<PathBuf> {
        let program = self.finder.find(step.program).ok_or_else(|| {
            Error::Io(std::io::Error::other(format!(
                "{} is no longer on PATH",
                step.program
            )))
        })?;
        let out = Command::new(&program)
            .args(step.args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            let said = last_line(&out.stderr).or_else(|| last_line(&out.stdout));
            let message = format!(
                "{} failed ({}): {}",
                step.program,
                out.status,
                said.unwrap_or_default()
            );
            return Err(Error::Io(std::io::Error::other(message)));
        }
        Ok(dir.join(step.output))
    }

    /// Writes `contents` as `file`, runs the encoder, and returns what it wrote.
    fn encode(&self, file: &str, contents: &[u8]) -> Result<Vec<u8>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(file), contents)?;
        let output = self.run(&self.spec.encode, dir.path())?;
        Ok(std::fs::read(output)?)
    }

    /// Runs the decoder on `data` and returns the file it wrote, refusing one larger than
    /// `limit` bytes.
    fn decode(&self, data: &[u8], limit: u64) -> Result<Vec<u8>> {
        let Some(step) = &self.spec.decode else {
            return Ok(data.to_vec());
        };
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(self.spec.encode.output), data)?;
        read_at_most(&self.run(step, dir.path())?, limit)
    }

    /// Encodes the pixels of one image as the codec's input file.
    fn encode_image(&self, pixels: &[u8], shape: &ImageShape) -> Result<Vec<u8>> {
        match self.spec.input {
            InputFile::Png => self.encode("in.png", &encode_png(shape, pixels)?),
            _ => self.encode("in.pnm", &pnm_file(shape, pixels)),
        }
    }

    /// Decodes one image back to its pixels, checking its shape and colour type.
    fn decode_image(&self, data: &[u8], shape: &ImageShape) -> Result<Vec<u8>> {
        // The largest decoded file that can be right: an RGB PPM (dwebp writes colour for
        // grey images too) plus a generous header.
        let limit = 3 * u64::from(shape.width) * u64::from(shape.height) + 1024;
        pixels_of(&self.decode(data, limit)?, shape)
    }
}

fn last_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    Some(line.trim().to_string())
}

impl Codec for External {
    fn name(&self) -> String {
        self.spec.name.to_string()
    }

    fn in_process(&self) -> bool {
        false
    }

    fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        if self.spec.input == InputFile::Raw {
            return self.encode("in", data);
        }
        let mosaic = self.mosaic(data.len())?;
        self.encode_image(&mosaic.pack(data), &mosaic.image_shape()?)
    }

    fn decompress(&mut self, data: &[u8], original_len: usize) -> Result<Vec<u8>> {
        if self.spec.input == InputFile::Raw {
            return self.decode(data, original_len as u64);
        }
        let mosaic = self.mosaic(original_len)?;
        mosaic.unpack(&self.decode_image(data, &mosaic.image_shape()?)?)
    }

    fn compress_image(&mut self, pixels: &[u8], shape: ImageShape) -> Result<Vec<u8>> {
        match self.spec.input {
            InputFile::Raw => self.compress(pixels),
            _ => self.encode_image(pixels, &shape),
        }
    }

    fn decompress_image(&mut self, data: &[u8], shape: ImageShape) -> Result<Vec<u8>> {
        match self.spec.input {
            InputFile::Raw => self.decompress(data, pixel_count(shape)?),
            _ => self.decode_image(data, &shape),
        }
    }
}

/// Reads a file a decoder wrote, refusing one larger than `limit` bytes.
fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path)?.len();
    if len > limit {
        return Err(Error::format(
            "decoder output",
            format!("{len} bytes where at most {limit} were expected"),
        ));
    }
    Ok(std::fs::read(path)?)
}

/// Decodes a PGM, PPM or PNG to the pixels of an image of `shape`, requiring its
/// dimensions and channels; colour output of a grey image (dwebp writes RGB) must have
/// equal channels.
fn pixels_of(file: &[u8], shape: &ImageShape) -> Result<Vec<u8>> {
    let decoded =
        image::load_from_memory(file).map_err(|e| Error::format("decoded image", e.to_string()))?;
    if (decoded.width(), decoded.height()) != (shape.width, shape.height) {
        return Err(Error::format(
            "decoded image",
            format!(
                "{}x{} where {}x{} was encoded",
                decoded.width(),
                decoded.height(),
                shape.width,
                shape.height
            ),
        ));
    }
    match (decoded, shape.channels) {
        (image::DynamicImage::ImageLuma8(grey), 1) => Ok(grey.into_raw()),
        (image::DynamicImage::ImageRgb8(rgb), 3) => Ok(rgb.into_raw()),
        (image::DynamicImage::ImageRgb8(rgb), 1) => rgb
            .pixels()
            .map(|p| match p.0 {
                [r, g, b] if r == g && g == b => Ok(r),
                _ => Err(Error::format(
                    "decoded image",
                    "colour where grey was encoded",
                )),
            })
            .collect(),
        (other, _) => Err(Error::format(
            "decoded image",
            format!("pixel type {:?} where {shape} was encoded", other.color()),
        )),
    }
}

/// Records of one shape tiled into a near-square grid, row by row, the last grid row padded
/// with black; a single record is just itself. Image codecs then see real 2-D structure in
/// the whole-set variant, and no side grows past the codecs' size limits for large sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mosaic {
    shape: Shape,
    count: usize,
    across: usize,
    down: usize,
}

impl Mosaic {
    /// The mosaic of `len` bytes of records of `shape`.
    pub fn new(len: usize, shape: Shape) -> Result<Self> {
        let pixels = shape.pixels();
        if len == 0 || !len.is_multiple_of(pixels) {
            return Err(Error::parameter(format!(
                "{len} bytes are not whole {}x{} images",
                shape.rows, shape.cols
            )));
        }
        let count = len / pixels;
        let mut across = (count as f64).sqrt() as usize;
        while across * across < count {
            across += 1;
        }
        Ok(Mosaic {
            shape,
            count,
            across,
            down: count.div_ceil(across),
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.across * self.shape.cols
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.down * self.shape.rows
    }

    /// Where row `r` of record `k` starts in the mosaic's pixels.
    fn offset(&self, k: usize, r: usize) -> usize {
        let y = (k / self.across) * self.shape.rows + r;
        y * self.width() + (k % self.across) * self.shape.cols
    }

    /// The mosaic's pixels, row-major.
    pub fn pack(&self, records: &[u8]) -> Vec<u8> {
        let mut pixels = vec![0; self.width() * self.height()];
        let cols = self.shape.cols;
        for (i, row) in records.chunks_exact(cols).enumerate() {
            let at = self.offset(i / self.shape.rows, i % self.shape.rows);
            pixels[at..at + cols].copy_from_slice(row);
        }
        pixels
    }

    /// The records back from the mosaic's pixels.
    pub fn unpack(&self, pixels: &[u8]) -> Result<Vec<u8>> {
        if pixels.len() != self.width() * self.height() {
            return Err(Error::format(
                "decoded image",
                format!(
                    "{} pixels where {} were encoded",
                    pixels.len(),
                    self.width() * self.height()
                ),
            ));
        }
        let cols = self.shape.cols;
        let mut records = Vec::with_capacity(self.count * self.shape.pixels());
        for k in 0..self.count {
            for r in 0..self.shape.rows {
                let at = self.offset(k, r);
                records.extend_from_slice(&pixels[at..at + cols]);
            }
        }
        Ok(records)
    }

    /// The mosaic as a grey image.
    fn image_shape(&self) -> Result<ImageShape> {
        let side = |n: usize| {
            u32::try_from(n).map_err(|_| Error::parameter(format!("a {n}-pixel side is too large")))
        };
        Ok(ImageShape {
            width: side(self.width())?,
            height: side(self.height())?,
            channels: 1,
        })
    }
}
