//! Image files as a bench corpus: every file is one unit of its own shape and colour type,
//! so that image codecs and pcz see real images, and stream compressors the raw pixels.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Corpus;
use crate::data::image::{decode_file, is_image};
use crate::data::{ImageShape, DEFAULT_LIMIT};
use crate::error::{Error, Result};

/// One image of the corpus, as listed in the report (the rows' `image_bytes` follow this
/// order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFile {
    /// File name, without its directory.
    pub file: String,
    /// Width, height and channels.
    #[serde(flatten)]
    pub shape: ImageShape,
}

/// The files and the corpus of their pixels when every file is an image (PNG or Netpbm,
/// told by content); `None` when one is not, so that it is benched as bytes instead.
pub fn read(paths: &[PathBuf]) -> Result<Option<(Vec<ImageFile>, Corpus)>> {
    for path in paths {
        if !is_image(&head(path)?) {
            return Ok(None);
        }
    }
    let mut files = Vec::with_capacity(paths.len());
    let mut images = Vec::with_capacity(paths.len());
    for path in paths {
        let (shape, pixels) = decode_file(path, DEFAULT_LIMIT)?;
        files.push(ImageFile {
            file: file_name(path),
            shape,
        });
        images.push((shape, pixels));
    }
    Ok(Some((files, Corpus::from_images(images)?)))
}

/// The name of a file without its directory, as reports show it.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The first bytes of a file, enough to tell an image by its magic number.
fn head(path: &Path) -> Result<Vec<u8>> {
    let named = |e: std::io::Error| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    };
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(path)
        .map_err(named)?
        .take(8)
        .read_to_end(&mut head)
        .map_err(named)?;
    Ok(head)
}

/// "12 images (7 grey, 5 RGB), 5310680 subpixels".
pub fn summary(files: &[ImageFile]) -> String {
    let grey = files.iter().filter(|f| f.shape.channels == 1).count();
    let subpixels: u64 = files.iter().map(|f| f.shape.values()).sum();
    format!(
        "{} images ({grey} grey, {} RGB), {subpixels} subpixels",
        files.len(),
        files.len() - grey
    )
}
