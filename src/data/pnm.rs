//! A small reader for Netpbm images (PBM, PGM, PPM; plain and raw) that keeps sample values
//! exactly as stored.
//!
//! General-purpose decoders rescale samples to 0..=255 when maxval is not 255 (a PGM with
//! maxval 16 would come back as 0, 16, 32, ...), which would change the data being
//! compressed. Here a PGM with maxval 16 gives values 0..=16, and a PBM gives 0 and 1 (1 is
//! black, as stored). maxval above 255 means 16-bit samples, which are not supported.
//!
//! Supported: `P1` (plain PBM), `P2` (plain PGM), `P3` (plain PPM), `P4` (raw PBM), `P5` (raw
//! PGM), `P6` (raw PPM), one image per file. `P7` (PAM) is not supported.

use super::image::ImageShape;
use crate::error::{Error, Result};

const CONTEXT: &str = "PNM image";

/// True when `bytes` starts like a Netpbm file: `P1`..`P7` then whitespace.
pub fn is_pnm(bytes: &[u8]) -> bool {
    bytes.len() >= 3
        && bytes[0] == b'P'
        && (b'1'..=b'7').contains(&bytes[1])
        && bytes[2].is_ascii_whitespace()
}

/// Decodes a whole PNM file. `limit` caps the number of samples.
pub fn parse_pnm(bytes: &[u8], limit: u64) -> Result<(ImageShape, Vec<u8>)> {
    if !is_pnm(bytes) {
        return Err(Error::format(CONTEXT, "missing P1..P6 magic"));
    }
    let kind = bytes[1];
    if kind == b'7' {
        return Err(Error::Unsupported {
            what: "PAM (P7) images: use PGM (P5), PPM (P6) or PNG".into(),
        });
    }
    let mut cursor = Cursor { bytes, pos: 2 };
    let width = cursor.header_number("width")?;
    let height = cursor.header_number("height")?;
    let bitmap = kind == b'1' || kind == b'4';
    let maxval = if bitmap {
        1
    } else {
        cursor.header_number("maxval")?
    };
    if width == 0 || height == 0 {
        return Err(Error::format(CONTEXT, format!("empty: {width}x{height}")));
    }
    if maxval == 0 {
        return Err(Error::format(CONTEXT, "maxval 0"));
    }
    if maxval > 255 {
        return Err(Error::Unsupported {
            what: format!(
                "16-bit PNM image (maxval {maxval}): only 8-bit gray or RGB images are supported"
            ),
        });
    }
    let channels: u8 = if kind == b'3' || kind == b'6' { 3 } else { 1 };
    let shape = ImageShape {
        width,
        height,
        channels,
    };
    let samples = shape.values();
    if samples > limit {
        return Err(Error::LimitExceeded(format!(
            "PNM image of {shape} holds more than {limit} values"
        )));
    }
    let raw = matches!(kind, b'4' | b'5' | b'6');
    if raw {
        // Exactly one whitespace byte separates the header from the raster.
        match bytes.get(cursor.pos) {
            Some(b) if b.is_ascii_whitespace() => cursor.pos += 1,
            _ => return Err(Error::format(CONTEXT, "truncated header")),
        }
    }
    let rest = &bytes[cursor.pos..];
    // Every sample takes at least one byte (a bit, for P4) of what is left: check before
    // allocating for the size the header claims.
    let needed = if kind == b'4' {
        u64::from(width.div_ceil(8)) * u64::from(height)
    } else if raw {
        samples
    } else {
        samples.min(rest.len() as u64 + 1)
    };
    if needed > rest.len() as u64 {
        return Err(Error::format(
            CONTEXT,
            format!(
                "truncated: a {shape} image needs {needed} raster bytes, {} remain",
                rest.len()
            ),
        ));
    }
    let samples = samples as usize;
    let values = match kind {
        b'4' => {
            let row_bytes = width.div_ceil(8) as usize;
            let mut out = Vec::with_capacity(samples);
            for row in rest[..row_bytes * height as usize].chunks_exact(row_bytes) {
                out.extend((0..width as usize).map(|x| (row[x / 8] >> (7 - x % 8)) & 1));
            }
            check_trailing(&rest[needed as usize..], true)?;
            out
        }
        b'5' | b'6' => {
            let out = rest[..samples].to_vec();
            check_trailing(&rest[samples..], true)?;
            out
        }
        b'1' => {
            let mut out = Vec::with_capacity(samples);
            for _ in 0..samples {
                cursor.skip_space();
                match cursor.bytes.get(cursor.pos) {
                    Some(&b @ (b'0' | b'1')) => {
                        out.push(b - b'0');
                        cursor.pos += 1;
                    }
                    Some(_) => return Err(Error::format(CONTEXT, "PBM samples must be 0 or 1")),
                    None => return Err(short_plain(&shape, out.len())),
                }
            }
            check_trailing(&cursor.bytes[cursor.pos..], false)?;
            out
        }
        _ => {
            let mut out = Vec::with_capacity(samples);
            for _ in 0..samples {
                cursor.skip_space();
                if cursor.pos >= cursor.bytes.len() {
                    return Err(short_plain(&shape, out.len()));
                }
                let v = cursor.number("sample")?;
                if v > maxval {
                    return Err(above_maxval(v, maxval));
                }
                out.push(v as u8);
            }
            check_trailing(&cursor.bytes[cursor.pos..], false)?;
            out
        }
    };
    if let Some(&v) = values.iter().find(|&&v| u32::from(v) > maxval) {
        return Err(above_maxval(u32::from(v), maxval));
    }
    Ok((shape, values))
}

fn above_maxval(v: u32, maxval: u32) -> Error {
    Error::format(CONTEXT, format!("sample {v} is above maxval {maxval}"))
}

fn short_plain(shape: &ImageShape, got: usize) -> Error {
    Error::format(
        CONTEXT,
        format!(
            "truncated: a {shape} image needs {} samples, found {got}",
            shape.values()
        ),
    )
}

fn check_trailing(rest: &[u8], raw: bool) -> Result<()> {
    let extra = if raw {
        rest.len()
    } else {
        rest.iter().filter(|b| !b.is_ascii_whitespace()).count()
    };
    if extra > 0 {
        return Err(Error::format(
            CONTEXT,
            format!("{extra} trailing bytes after the raster (one image per file)"),
        ));
    }
    Ok(())
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// Skips whitespace and `#` comments (to the end of the line).
    fn skip_space(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b'#' {
                while self
                    .bytes
                    .get(self.pos)
                    .is_some_and(|&b| b != b'\n' && b != b'\r')
                {
                    self.pos += 1;
                }
            } else if b.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn header_number(&mut self, what: &str) -> Result<u32> {
        self.skip_space();
        self.number(what)
    }

    fn number(&mut self, what: &str) -> Result<u32> {
        let start = self.pos;
        let mut value: u32 = 0;
        while let Some(&b) = self.bytes.get(self.pos).filter(|b| b.is_ascii_digit()) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u32::from(b - b'0')))
                .ok_or_else(|| Error::format(CONTEXT, format!("{what} is too large")))?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(Error::format(
                CONTEXT,
                if self.pos >= self.bytes.len() {
                    format!("truncated: missing {what}")
                } else {
                    format!("{what} is not a number")
                },
            ));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::source::DEFAULT_LIMIT;

    fn parse(bytes: &[u8]) -> Result<(ImageShape, Vec<u8>)> {
        parse_pnm(bytes, DEFAULT_LIMIT)
    }

    #[test]
    fn raw_pgm_keeps_values_below_maxval() {
        let (shape, v) = parse(b"P5\n# comment\n3 1\n16\n\x00\x07\x10").unwrap();
        assert_eq!((shape.width, shape.height, shape.channels), (3, 1, 1));
        assert_eq!(v, vec![0, 7, 16]);
    }

    #[test]
    fn raster_may_start_with_whitespace_bytes() {
        // The single separator is consumed; a raster byte equal to '\n' is data.
        let (_, v) = parse(b"P5 2 1 255\n\n\x20").unwrap();
        assert_eq!(v, vec![10, 32]);
    }

    #[test]
    fn plain_formats() {
        assert_eq!(
            parse(b"P2 2 2 9\n0 1\n# c\n8 9\n").unwrap().1,
            vec![0, 1, 8, 9]
        );
        let (shape, v) = parse(b"P3 1 1 255 1 2 3").unwrap();
        assert_eq!(shape.channels, 3);
        assert_eq!(v, vec![1, 2, 3]);
        assert_eq!(
            parse(b"P1 3 2\n010\n1 1 0\n").unwrap().1,
            vec![0, 1, 0, 1, 1, 0]
        );
    }

    #[test]
    fn raw_bitmap_and_pixmap() {
        // Width 10: rows are padded to 2 bytes.
        let (_, v) = parse(b"P4 10 1\n\xA5\xC0").unwrap();
        assert_eq!(v, vec![1, 0, 1, 0, 0, 1, 0, 1, 1, 1]);
        let (shape, v) = parse(b"P6 1 2 255\n\x01\x02\x03\x04\x05\x06").unwrap();
        assert_eq!((shape.channels, v.len()), (3, 6));
    }

    #[test]
    fn errors() {
        for (bytes, text) in [
            (&b"P5 2 2 255\n\x00"[..], "truncated"),
            (b"P5 2 2 255\n\x00\x00\x00\x00\x00", "1 trailing bytes"),
            (b"P5 2 2 65535\n\x00\x00\x00\x00\x00\x00\x00\x00", "16-bit"),
            (b"P5 0 2 255\n", "empty"),
            (b"P5 2 2 0\n\x00\x00\x00\x00", "maxval 0"),
            (b"P5 2 1 9\n\x00\x0a", "above maxval"),
            (b"P2 2 1 9\n1", "needs 2 samples, found 1"),
            (b"P2 2 1 9\n1 300", "above maxval"),
            (b"P2 2 1 255\n1 x", "not a number"),
            (b"P5 99999999999 1 255\n", "too large"),
            (b"P5 2", "missing height"),
            (b"P7\nWIDTH 1\n", "PAM"),
            (b"P1 2 1\n0 2", "0 or 1"),
        ] {
            let e = parse(bytes).unwrap_err().to_string();
            assert!(
                e.contains(text),
                "{:?}: {e}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn claimed_size_is_checked_before_allocating() {
        let e = parse(b"P5 65535 65535 255\n\x00").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = parse_pnm(b"P5 4 4 255\n", 15).unwrap_err();
        assert!(matches!(e, Error::LimitExceeded(_)));
    }
}
