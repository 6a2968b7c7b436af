//! One entry point for all loaders: [`load`] detects the format of a path, or obeys an
//! explicit [`Format`].
//!
//! Detection, in order:
//! 1. a directory is a set of images;
//! 2. a record size given without a format means raw records;
//! 3. otherwise the content decides (after gzip decompression, detected by magic): PNG or PNM
//!    magic is an image, `00 00 <type> <d>` is IDX;
//! 4. a name ending in `.csv` (or `.csv.gz`) is CSV;
//! 5. anything else is an error asking for a format.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::csv::{load_csv, CsvOptions};
use super::idx::{load_idx, IdxHeader};
use super::image::{list_image_dir, load_images, ImageShape, PNG_MAGIC};
use super::pnm::is_pnm;
use super::raw::load_raw;
use super::source::{Source, DEFAULT_LIMIT};
use super::Dataset;
use crate::error::{Error, Result};

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// IDX of unsigned bytes (plain or gzip).
    Idx,
    /// PNG/PNM images: a directory, or a single image file.
    Images,
    /// Raw fixed-size records (needs a record size).
    Raw,
    /// CSV of integers 0..=255 (plain or gzip).
    Csv,
}

impl Format {
    /// All formats, in the order of their names in [`Format::NAMES`].
    pub const ALL: [Format; 4] = [Format::Idx, Format::Images, Format::Raw, Format::Csv];
    /// The names accepted by [`Format::from_str`].
    pub const NAMES: [&'static str; 4] = ["idx", "images", "raw", "csv"];

    /// The lowercase name of the format.
    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|&f| f == self).expect("listed")]
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Format> {
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "image" | "png" | "pgm" | "pnm" => return Ok(Format::Images),
            _ => {}
        }
        Self::NAMES
            .iter()
            .position(|&n| n == lower)
            .map(|i| Self::ALL[i])
            .ok_or_else(|| {
                Error::parameter(format!(
                    "unknown format {s:?}: expected one of {}",
                    Self::NAMES.join(", ")
                ))
            })
    }
}

/// How to load a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// Bytes per record of a raw file (implies [`Format::Raw`] when no format is given).
    pub record_size: Option<usize>,
    /// `Some(k)`: every variable gets the alphabet size k (e.g. 256 for 8-bit pixels; all
    /// values must be below k). `None`: each variable's alphabet is its max value + 1.
    pub alphabet: Option<u16>,
    /// Cap on the (decompressed) input size in bytes, or the number of image values.
    pub limit: u64,
    /// CSV options.
    pub csv: CsvOptions,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            format: None,
            record_size: None,
            alphabet: None,
            limit: DEFAULT_LIMIT,
            csv: CsvOptions::default(),
        }
    }
}

/// Where the records came from, with what the codec needs to rebuild the original layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// An IDX file with this header.
    Idx(IdxHeader),
    /// Images of this shape, from these files in this order.
    Images {
        /// Shape shared by all images.
        shape: ImageShape,
        /// The image files, in record order.
        files: Vec<PathBuf>,
    },
    /// Raw records.
    Raw {
        /// Bytes per record.
        record_size: usize,
    },
    /// A CSV table.
    Csv,
}

/// A loaded dataset and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The records.
    pub dataset: Dataset,
    /// The format that was used.
    pub format: Format,
    /// Format-specific layout.
    pub layout: Layout,
    /// Whether the file was gzip-compressed (always false for images).
    pub gzip: bool,
}

/// Loads the dataset at `path` (see the module docs for format detection).
pub fn load(path: &Path, options: &LoadOptions) -> Result<Dataset> {
    Ok(load_detailed(path, options)?.dataset)
}

/// Like [`load`], also returning the format and layout.
pub fn load_detailed(path: &Path, options: &LoadOptions) -> Result<Loaded> {
    let (format, gzip) = match options.format {
        Some(format) => (format, false),
        None => detect(path, options)?,
    };
    if options.record_size.is_some() && format != Format::Raw {
        return Err(Error::parameter(format!(
            "a record size only applies to raw records, not to {format}"
        )));
    }
    let limit = options.limit;
    let (mut dataset, layout) = match format {
        Format::Idx => {
            let (header, dataset) = load_idx(path, limit)?;
            (dataset, Layout::Idx(header))
        }
        Format::Images => {
            let files = if path.is_dir() {
                list_image_dir(path)?
            } else {
                vec![path.to_path_buf()]
            };
            let (shape, dataset) = load_images(&files, limit)?;
            (dataset, Layout::Images { shape, files })
        }
        Format::Raw => {
            let record_size = options.record_size.ok_or_else(|| {
                Error::parameter("raw records need a record size (bytes per record)")
            })?;
            (
                load_raw(path, record_size, limit)?,
                Layout::Raw { record_size },
            )
        }
        Format::Csv => (load_csv(path, &options.csv, limit)?, Layout::Csv),
    };
    if let Some(k) = options.alphabet {
        dataset.set_uniform_alphabet(k)?;
    }
    let gzip =
        gzip || (format != Format::Images && !path.is_dir() && Source::open(path)?.is_gzip());
    Ok(Loaded {
        dataset,
        format,
        layout,
        gzip,
    })
}

/// Detects the format of `path`; also returns whether it is gzip-compressed.
pub fn detect(path: &Path, options: &LoadOptions) -> Result<(Format, bool)> {
    if path.is_dir() {
        return Ok((Format::Images, false));
    }
    let mut source = Source::open(path)?;
    let gzip = source.is_gzip();
    if options.record_size.is_some() {
        return Ok((Format::Raw, gzip));
    }
    let head = source.peek(8)?;
    if !gzip && is_image_magic(&head) {
        return Ok((Format::Images, false));
    }
    if is_idx_magic(&head) {
        return Ok((Format::Idx, gzip));
    }
    if has_csv_name(path) {
        return Ok((Format::Csv, gzip));
    }
    Err(Error::parameter(format!(
        "cannot tell the format of {}: give a format ({}) or a raw record size",
        path.display(),
        Format::NAMES.join(", ")
    )))
}

/// PNG signature, or `P1`..`P7` followed by whitespace (Netpbm).
fn is_image_magic(head: &[u8]) -> bool {
    head.starts_with(&PNG_MAGIC) || is_pnm(head)
}

/// Two zero bytes, a known IDX element type and at least one dimension. Other element types
/// are still detected as IDX so that the loader can say they are unsupported.
fn is_idx_magic(head: &[u8]) -> bool {
    head.len() >= 4
        && head[0] == 0
        && head[1] == 0
        && [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E].contains(&head[2])
        && head[3] >= 1
}

fn has_csv_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".csv")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn idx_bytes() -> Vec<u8> {
        let mut v = IdxHeader::new(vec![2, 2, 2]).unwrap().to_bytes();
        v.extend_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7]);
        v
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn detects_idx_plain_and_gzip_whatever_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let plain = write(dir.path(), "a.csv", &idx_bytes()); // content wins over the name
        let packed = write(dir.path(), "b", &gzip(&idx_bytes()));
        for (path, gz) in [(plain, false), (packed, true)] {
            let loaded = load_detailed(&path, &LoadOptions::default()).unwrap();
            assert_eq!(loaded.format, Format::Idx);
            assert_eq!(loaded.gzip, gz);
            assert_eq!(loaded.dataset.dims(), 4);
            assert_eq!(loaded.dataset.len(), 2);
            match loaded.layout {
                Layout::Idx(h) => assert_eq!(h.dims, vec![2, 2, 2]),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn detects_images_directory_and_single_file() {
        let dir = tempfile::tempdir().unwrap();
        let one = write(dir.path(), "one.img", b"P5\n2 1\n255\n\x01\x02");
        write(dir.path(), "two.pgm", b"P5\n2 1\n255\n\x03\x04");
        let loaded = load_detailed(&one, &LoadOptions::default()).unwrap();
        assert_eq!(loaded.format, Format::Images);
        assert_eq!(loaded.dataset.values(), &[1, 2]);
        // The directory takes only files with image extensions.
        let loaded = load_detailed(dir.path(), &LoadOptions::default()).unwrap();
        assert_eq!(loaded.dataset.values(), &[3, 4]);
        match loaded.layout {
            Layout::Images { shape, files } => {
                assert_eq!((shape.width, shape.height, shape.channels), (2, 1, 1));
                assert_eq!(files.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn detects_csv_by_name_and_raw_by_record_size() {
        let dir = tempfile::tempdir().unwrap();
        let csv = write(dir.path(), "t.CSV.gz", &gzip(b"x,y\n1,2\n"));
        let ds = load(&csv, &LoadOptions::default()).unwrap();
        assert_eq!(ds.values(), &[1, 2]);
        let raw = write(dir.path(), "r.bin", &[5; 6]);
        let options = LoadOptions {
            record_size: Some(3),
            ..LoadOptions::default()
        };
        let loaded = load_detailed(&raw, &options).unwrap();
        assert_eq!(loaded.format, Format::Raw);
        assert_eq!(loaded.dataset.len(), 2);
    }

    #[test]
    fn unknown_content_asks_for_a_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "mystery.bin", b"\x01\x02\x03");
        let e = load(&path, &LoadOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Parameter(_)));
        assert!(e.to_string().contains("cannot tell the format"), "{e}");
    }

    #[test]
    fn explicit_format_overrides_detection() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "numbers.txt", b"1,2,3\n4,5,6\n");
        let options = LoadOptions {
            format: Some("csv".parse().unwrap()),
            ..LoadOptions::default()
        };
        assert_eq!(load(&path, &options).unwrap().dims(), 3);
        // Forcing IDX on a CSV is an IDX error, not a detection.
        let options = LoadOptions {
            format: Some(Format::Idx),
            ..LoadOptions::default()
        };
        assert!(load(&path, &options)
            .unwrap_err()
            .to_string()
            .contains("wrong magic"));
        // Raw needs a record size; other formats refuse one.
        let options = LoadOptions {
            format: Some(Format::Raw),
            ..LoadOptions::default()
        };
        assert!(matches!(load(&path, &options), Err(Error::Parameter(_))));
        let options = LoadOptions {
            format: Some(Format::Csv),
            record_size: Some(2),
            ..LoadOptions::default()
        };
        assert!(matches!(load(&path, &options), Err(Error::Parameter(_))));
    }

    #[test]
    fn alphabet_option() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.csv", b"1,2\n3,0\n");
        assert_eq!(
            load(&path, &LoadOptions::default()).unwrap().alphabet(),
            &[4, 3]
        );
        let options = LoadOptions {
            alphabet: Some(256),
            ..LoadOptions::default()
        };
        assert_eq!(load(&path, &options).unwrap().alphabet(), &[256, 256]);
        let options = LoadOptions {
            alphabet: Some(3),
            ..LoadOptions::default()
        };
        assert!(load(&path, &options).is_err());
    }

    #[test]
    fn unsupported_idx_type_is_detected_then_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "f.idx",
            &[0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0],
        );
        let e = load(&path, &LoadOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("unsupported IDX element type 0x0d"),
            "{e}"
        );
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert_eq!("PNG".parse::<Format>().unwrap(), Format::Images);
        assert!("tiff".parse::<Format>().is_err());
    }
}
