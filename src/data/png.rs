//! PNG pixels in and out, for `pcz compress --pixels`: a PNG's pixels become a raw PGM/PPM
//! (which pcz codes as an image), and that PGM/PPM becomes a PNG again on decompression.
//!
//! The round trip keeps the pixels, not the PNG's bytes: chunks such as text, colour
//! profiles and the original compression settings are not kept.
//!
//! `pcz bench` uses the same writers to hand an image's pixels to pcz and to image codecs.

use super::image::{decode_png, ImageShape, PNG_MAGIC};
use super::pnm;
use crate::error::{Error, Result};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

/// The pixels of an 8-bit gray or RGB PNG as a raw PGM (`P5`) or PPM (`P6`) file; `limit`
/// caps the number of samples.
pub fn png_to_pnm(bytes: &[u8], limit: u64) -> Result<Vec<u8>> {
    if !bytes.starts_with(&PNG_MAGIC) {
        return Err(Error::format("PNG image", "not a PNG file"));
    }
    let (shape, pixels) = decode_png(bytes, limit)?;
    Ok(pnm_file(&shape, &pixels))
}

/// A raw PGM/PPM of `pixels` (row-major, channels interleaved) in the one header form
/// [`pnm_to_png`] accepts.
pub fn pnm_file(shape: &ImageShape, pixels: &[u8]) -> Vec<u8> {
    let mut out = pnm_header(shape).into_bytes();
    out.extend_from_slice(pixels);
    out
}

/// The header [`png_to_pnm`] writes, the only one [`pnm_to_png`] accepts (so that every
/// value means the same in both files: maxval 255, no comments).
fn pnm_header(shape: &ImageShape) -> String {
    let magic = if shape.channels == 3 { "P6" } else { "P5" };
    format!("{magic}\n{} {}\n255\n", shape.width, shape.height)
}

/// A PNG of the pixels of a PGM/PPM written by [`png_to_pnm`].
pub fn pnm_to_png(bytes: &[u8], limit: u64) -> Result<Vec<u8>> {
    let (shape, pixels) = pnm::parse_pnm(bytes, limit)?;
    if !bytes.starts_with(pnm_header(&shape).as_bytes()) {
        return Err(Error::format(
            "PNM image",
            "the pixels of a PNG must be a raw PGM/PPM with maxval 255 and no comments",
        ));
    }
    encode_png(&shape, &pixels)
}

/// A PNG of 8-bit gray or RGB `pixels` of `shape`, at the default deflate effort: the best
/// effort is several times slower and gains under 1% (camera, astronaut).
pub fn encode_png(shape: &ImageShape, pixels: &[u8]) -> Result<Vec<u8>> {
    let color = match shape.channels {
        3 => ExtendedColorType::Rgb8,
        _ => ExtendedColorType::L8,
    };
    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive);
    encoder
        .write_image(pixels, shape.width, shape.height, color)
        .map_err(|e| Error::format("PNG image", e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(pixels: &[u8], width: u32, color: ExtendedColorType) -> Vec<u8> {
        let mut out = Vec::new();
        let height = pixels.len() as u32
            / width
            / if color == ExtendedColorType::Rgb8 {
                3
            } else {
                1
            };
        PngEncoder::new(&mut out)
            .write_image(pixels, width, height, color)
            .unwrap();
        out
    }

    #[test]
    fn pixels_survive_png_to_pnm_to_png() {
        let gray: Vec<u8> = (0..12).map(|i| i * 20).collect();
        let rgb: Vec<u8> = (0..18).map(|i| 255 - i * 7).collect();
        for (pixels, color, magic) in [
            (&gray, ExtendedColorType::L8, "P5\n3 4\n255\n"),
            (&rgb, ExtendedColorType::Rgb8, "P6\n3 2\n255\n"),
        ] {
            let pnm = png_to_pnm(&png(pixels, 3, color), 1 << 20).unwrap();
            assert_eq!(&pnm[..magic.len()], magic.as_bytes());
            assert_eq!(&pnm[magic.len()..], &pixels[..]);
            let back = pnm_to_png(&pnm, 1 << 20).unwrap();
            assert_eq!(png_to_pnm(&back, 1 << 20).unwrap(), pnm);
        }
    }

    #[test]
    fn other_inputs_are_errors() {
        assert!(png_to_pnm(b"P5\n1 1\n255\n\x00", 100).is_err(), "not a PNG");
        assert!(pnm_to_png(b"P5\n1 1\n16\n\x00", 100).is_err(), "maxval 16");
        assert!(
            pnm_to_png(b"P5 1 1 255\n\x00", 100).is_err(),
            "another header"
        );
        assert!(pnm_to_png(b"P2\n1 1\n255\n0", 100).is_err(), "plain PGM");
    }
}
