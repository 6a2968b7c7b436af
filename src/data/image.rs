//! Same-size 8-bit PNG or PGM/PPM (PNM) images, one record per image.
//!
//! - Gray (`L8`) images give D = H * W variables, row-major.
//! - RGB (`Rgb8`) images give D = H * W * 3 variables: pixels row-major, the three channels
//!   of each pixel interleaved (R, G, B, R, G, B, ...), exactly as stored in PNG and PPM.
//! - 16-bit images, images with an alpha channel and other colour types are rejected: the
//!   models work on 8-bit values only, and converting would lose or invent data.
//! - Values are taken as stored, not rescaled: a PGM with maxval 16 gives values 0..=16 and
//!   a PBM gives 0/1 (see [`super::pnm`]). PNG palette images are expanded to RGB by the
//!   decoder, and 1/2/4-bit gray PNGs to 8 bits.
//! - All images must share width, height and colour type; a mismatch names both files.
//!
//! The format is detected from the file's content (PNG or PNM magic), not from its name.

use std::fs;
use std::path::{Path, PathBuf};

use image::{ColorType, ImageDecoder, ImageError, ImageFormat, ImageReader};

use super::{pnm, Dataset};
use crate::error::{Error, Result};

/// File name extensions taken from a directory (compared case-insensitively).
pub const IMAGE_EXTENSIONS: [&str; 5] = ["png", "pgm", "ppm", "pnm", "pam"];

/// Shape shared by every image of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageShape {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 1 for gray, 3 for RGB.
    pub channels: u8,
}

impl ImageShape {
    /// Values per image: width * height * channels.
    pub fn values(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height) * u64::from(self.channels)
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.channels == 1 { "gray" } else { "RGB" };
        write!(f, "{}x{} {kind}", self.width, self.height)
    }
}

/// The image files of a directory that would be loaded, sorted by file name.
///
/// Only regular files with an extension in [`IMAGE_EXTENSIONS`] count; hidden files (name
/// starting with `.`) and other files are skipped.
pub fn list_image_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_error(e, dir))? {
        let entry = entry.map_err(|e| io_error(e, dir))?;
        let path = entry.path();
        let name = entry.file_name();
        let hidden = name.to_string_lossy().starts_with('.');
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)));
        if !hidden && wanted && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    if paths.is_empty() {
        return Err(Error::format(
            "image directory",
            format!(
                "{} holds no image files (.png, .pgm, .ppm, .pnm, .pam)",
                dir.display()
            ),
        ));
    }
    Ok(paths)
}

/// Loads every image of a directory, sorted by file name (see [`list_image_dir`]).
pub fn load_image_dir(dir: &Path, limit: u64) -> Result<(ImageShape, Dataset)> {
    load_images(&list_image_dir(dir)?, limit)
}

/// Loads a list of images, in the given order, one record each. `limit` caps the total
/// number of pixel values (see [`super::DEFAULT_LIMIT`]).
pub fn load_images<P: AsRef<Path>>(paths: &[P], limit: u64) -> Result<(ImageShape, Dataset)> {
    let Some(first) = paths.first() else {
        return Err(Error::parameter("no images given"));
    };
    let first = first.as_ref();
    let mut values = Vec::new();
    let mut shape: Option<ImageShape> = None;
    for path in paths {
        let path = path.as_ref();
        let (this, pixels) = decode_file(path, limit)?;
        match shape {
            None => shape = Some(this),
            Some(s) if s != this => {
                return Err(Error::format(
                    "image set",
                    format!(
                        "{} is {this} but {} is {s}: all images must have the same size and colour type",
                        path.display(),
                        first.display()
                    ),
                ));
            }
            Some(_) => {}
        }
        if (values.len() + pixels.len()) as u64 > limit {
            return Err(Error::LimitExceeded(format!(
                "the images hold more than {limit} values"
            )));
        }
        values.extend_from_slice(&pixels);
    }
    let shape = shape.expect("at least one image");
    let dims = usize::try_from(shape.values())
        .map_err(|_| Error::LimitExceeded("image too large".into()))?;
    Ok((shape, Dataset::new(dims, values)?))
}

/// PNG file signature.
pub const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// True when a file starting with `head` is one that [`decode_file`] reads as an image: a
/// PNG or a Netpbm file, told apart by content, not by name.
pub fn is_image(head: &[u8]) -> bool {
    head.starts_with(&PNG_MAGIC) || pnm::is_pnm(head)
}

/// Decodes one image file (PNG or PNM, told apart by content) into its shape and its
/// pixels, row-major with channels interleaved; errors name the file.
pub fn decode_file(path: &Path, limit: u64) -> Result<(ImageShape, Vec<u8>)> {
    let len = fs::metadata(path).map_err(|e| io_error(e, path))?.len();
    // `limit` caps both the bytes read and the values decoded.
    if len > limit {
        return Err(Error::LimitExceeded(format!(
            "image file {} is {len} bytes, over the limit",
            path.display()
        )));
    }
    let bytes = fs::read(path).map_err(|e| io_error(e, path))?;
    let named = |e: Error| match e {
        Error::Format(f) => Error::format(f.context, format!("{}: {}", path.display(), f.message)),
        Error::Unsupported { what } => Error::Unsupported {
            what: format!("{what} ({})", path.display()),
        },
        Error::LimitExceeded(m) => Error::LimitExceeded(format!("{}: {m}", path.display())),
        other => other,
    };
    if pnm::is_pnm(&bytes) {
        pnm::parse_pnm(&bytes, limit).map_err(named)
    } else if bytes.starts_with(&PNG_MAGIC) {
        decode_png(&bytes, limit).map_err(named)
    } else {
        Err(Error::format(
            "image",
            format!("{}: not a PNG or PNM image", path.display()),
        ))
    }
}

/// Decodes a PNG, checking its colour type and size before decoding the pixels.
pub(super) fn decode_png(bytes: &[u8], limit: u64) -> Result<(ImageShape, Vec<u8>)> {
    let reader = ImageReader::with_format(std::io::Cursor::new(bytes), ImageFormat::Png);
    let decoder = reader.into_decoder().map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    let channels = match color {
        ColorType::L8 => 1,
        ColorType::Rgb8 => 3,
        ColorType::L16 | ColorType::Rgb16 | ColorType::La16 | ColorType::Rgba16 => {
            return Err(Error::Unsupported {
                what: format!(
                    "16-bit PNG image ({color:?}): only 8-bit gray or RGB images are supported"
                ),
            });
        }
        ColorType::La8 | ColorType::Rgba8 => {
            return Err(Error::Unsupported {
                what: format!(
                    "PNG image with an alpha channel ({color:?}): only 8-bit gray or RGB \
                     images are supported"
                ),
            });
        }
        other => {
            return Err(Error::Unsupported {
                what: format!(
                    "PNG colour type {other:?}: only 8-bit gray or RGB images are supported"
                ),
            });
        }
    };
    let shape = ImageShape {
        width,
        height,
        channels,
    };
    if shape.values() == 0 {
        return Err(Error::format("PNG image", "no pixels"));
    }
    if shape.values() > limit || decoder.total_bytes() != shape.values() {
        return Err(Error::LimitExceeded(format!(
            "PNG image of {shape} holds more than {limit} values"
        )));
    }
    let mut pixels = vec![0u8; shape.values() as usize];
    decoder.read_image(&mut pixels).map_err(image_error)?;
    Ok((shape, pixels))
}

fn image_error(e: ImageError) -> Error {
    match e {
        ImageError::Unsupported(u) => Error::Unsupported {
            what: format!("PNG feature: {u}"),
        },
        ImageError::Limits(l) => Error::LimitExceeded(format!("PNG image: {l}")),
        // Reading from memory, so I/O errors are truncation or corruption too.
        other => Error::format("PNG image", other.to_string()),
    }
}

fn io_error(e: std::io::Error, path: &Path) -> Error {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData => {
            Error::format("image", format!("{}: {e}", path.display()))
        }
        kind => Error::Io(std::io::Error::new(
            kind,
            format!("{}: {e}", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::source::DEFAULT_LIMIT;
    use image::ExtendedColorType;

    fn pgm(w: u32, h: u32, maxval: u32, pixels: &[u8]) -> Vec<u8> {
        let mut out = format!("P5\n{w} {h}\n{maxval}\n").into_bytes();
        out.extend_from_slice(pixels);
        out
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn gray_pgm_and_png_give_h_times_w_values() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.pgm", &pgm(3, 2, 16, &[0, 1, 2, 3, 4, 16]));
        let b = dir.path().join("b.png");
        image::save_buffer(&b, &[9, 8, 7, 6, 5, 4], 3, 2, ExtendedColorType::L8).unwrap();
        let (shape, ds) = load_images(&[&a, &b], DEFAULT_LIMIT).unwrap();
        assert_eq!(
            shape,
            ImageShape {
                width: 3,
                height: 2,
                channels: 1
            }
        );
        assert_eq!((ds.len(), ds.dims()), (2, 6));
        // Stored values, not rescaled to maxval 255.
        assert_eq!(ds.record(0), &[0, 1, 2, 3, 4, 16]);
        assert_eq!(ds.record(1), &[9, 8, 7, 6, 5, 4]);
    }

    #[test]
    fn rgb_is_interleaved_per_pixel() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        let rgb: Vec<u8> = (0..12).collect(); // 2x2 pixels, 3 channels
        image::save_buffer(&path, &rgb, 2, 2, ExtendedColorType::Rgb8).unwrap();
        let ppm = {
            let mut v = b"P6 2 2 255\n".to_vec();
            v.extend_from_slice(&rgb);
            write(dir.path(), "d.ppm", &v)
        };
        let (shape, ds) = load_images(&[path, ppm], DEFAULT_LIMIT).unwrap();
        assert_eq!(shape.channels, 3);
        assert_eq!(shape.to_string(), "2x2 RGB");
        assert_eq!(ds.dims(), 12);
        assert_eq!(ds.record(0), rgb.as_slice());
        assert_eq!(ds.record(1), rgb.as_slice());
    }

    #[test]
    fn directory_is_sorted_by_name_and_skips_other_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b.pgm", &pgm(1, 1, 255, &[2]));
        write(dir.path(), "a.PGM", &pgm(1, 1, 255, &[1]));
        write(dir.path(), "c.pgm", &pgm(1, 1, 255, &[3]));
        write(dir.path(), "notes.txt", b"not an image");
        write(dir.path(), ".hidden.pgm", b"junk");
        fs::create_dir(dir.path().join("sub.png")).unwrap();
        let (_, ds) = load_image_dir(dir.path(), DEFAULT_LIMIT).unwrap();
        assert_eq!(ds.values(), &[1, 2, 3]);
    }

    #[test]
    fn empty_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "readme.md", b"#");
        let e = load_image_dir(dir.path(), DEFAULT_LIMIT).unwrap_err();
        assert!(e.to_string().contains("no image files"), "{e}");
    }

    #[test]
    fn ragged_sizes_name_both_files_and_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.pgm", &pgm(2, 2, 255, &[0; 4]));
        let b = write(dir.path(), "b.pgm", &pgm(3, 2, 255, &[0; 6]));
        let e = load_images(&[&a, &b], DEFAULT_LIMIT).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("b.pgm is 3x2 gray"), "{text}");
        assert!(text.contains("a.pgm is 2x2 gray"), "{text}");
        // Same size, different colour type.
        let c = write(
            dir.path(),
            "c.ppm",
            &[&b"P6 2 2 255\n"[..], &[0; 12]].concat(),
        );
        let e = load_images(&[&a, &c], DEFAULT_LIMIT).unwrap_err();
        assert!(e.to_string().contains("c.ppm is 2x2 RGB"), "{e}");
    }

    #[test]
    fn rejects_16_bit() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "deep.pgm", &pgm(2, 1, 65535, &[0, 1, 2, 3]));
        let e = load_images(&[&a], DEFAULT_LIMIT).unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }));
        assert!(e.to_string().contains("16-bit"), "{e}");
        let b = dir.path().join("deep.png");
        image::save_buffer(&b, &[0, 1, 2, 3], 2, 1, ExtendedColorType::L16).unwrap();
        let e = load_images(&[&b], DEFAULT_LIMIT).unwrap_err();
        assert!(e.to_string().contains("16-bit"), "{e}");
    }

    #[test]
    fn rejects_alpha() {
        let dir = tempfile::tempdir().unwrap();
        for (name, color, n) in [
            ("la.png", ExtendedColorType::La8, 2),
            ("rgba.png", ExtendedColorType::Rgba8, 4),
        ] {
            let path = dir.path().join(name);
            image::save_buffer(&path, &vec![7; n], 1, 1, color).unwrap();
            let e = load_images(&[&path], DEFAULT_LIMIT).unwrap_err();
            assert!(matches!(e, Error::Unsupported { .. }));
            assert!(e.to_string().contains("alpha channel"), "{e}");
        }
    }

    #[test]
    fn rejects_garbage_and_truncated_images() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "x.png", b"this is not an image at all");
        let e = load_images(&[&a], DEFAULT_LIMIT).unwrap_err();
        assert!(matches!(e, Error::Format(_)), "{e}");
        let b = write(dir.path(), "short.pgm", &pgm(4, 4, 255, &[1, 2, 3]));
        let e = load_images(&[&b], DEFAULT_LIMIT).unwrap_err();
        assert!(matches!(e, Error::Format(_)), "{e}");
        assert!(e.to_string().contains("short.pgm"), "{e}");
        assert!(matches!(
            load_images::<PathBuf>(&[], DEFAULT_LIMIT).unwrap_err(),
            Error::Parameter(_)
        ));
    }

    #[test]
    fn enforces_the_value_limit() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.pgm", &pgm(4, 4, 255, &[0; 16]));
        let b = write(dir.path(), "b.pgm", &pgm(4, 4, 255, &[0; 16]));
        assert!(load_images(&[&a, &b], 32).is_ok());
        assert!(matches!(
            load_images(&[&a, &b], 31).unwrap_err(),
            Error::LimitExceeded(_)
        ));
        assert!(matches!(
            load_images(&[&a], 15).unwrap_err(),
            Error::LimitExceeded(_)
        ));
    }
}
