//! How a file's bytes are cut into records: a verbatim prefix, fixed-size records, and a
//! verbatim suffix (the container's rebuild header, format-spec/FORMAT.md section 7).
//!
//! Detection looks at content, never at the file name:
//! - **IDX** (unsigned bytes, data filling the file exactly): the header is the prefix and a
//!   record is one item (one image for MNIST), so variable i is always the same pixel.
//! - **PGM/PPM** (raw `P5`/`P6`, maxval <= 255): the header is the prefix; the raster is cut
//!   into runs of a few consecutive pixels (all channels, interleaved as stored), so each
//!   record is a short horizontal strip ([`IMAGE_RUN_PIXELS`] lists the runs tried). The
//!   image's shape gives prediction transforms (residuals of the pixels above and to the
//!   left; for RGB also with red and blue relative to green), which bring the rows above
//!   into each strip's context.
//! - **WAV** (RIFF/WAVE, PCM, 16-bit): everything before the `data` payload is the prefix;
//!   a record is a few consecutive samples, each sample its two little-endian bytes (low,
//!   high) as two variables ([`WAV_RECORD_SAMPLES`] lists the counts tried).
//! - **Plain bytes**: no prefix; the record width is the user's `--record-size` or one of
//!   a few candidates (see [`super::width`]).
//!
//! Detection proposes candidate record widths, best guess first; the self-training policy
//! ([`super::policy`]) measures them and keeps one.
//!
//! Whatever the layout, bytes that do not fill a last record go to the suffix, so every
//! file round-trips; a wrong guess only costs compression, never correctness.

use crate::container::Transform;
use crate::data::{pnm, IdxHeader};

/// Pixels per record tried for a PGM/PPM raster, in the order tried.
pub const IMAGE_RUN_PIXELS: [usize; 4] = [4, 8, 2, 16];

/// Samples per record tried for a 16-bit WAV payload, in the order tried.
pub const WAV_RECORD_SAMPLES: [usize; 4] = [8, 16, 4, 32];

/// Largest IDX item taken as one record; larger items are cut like plain bytes.
const MAX_IDX_RECORD: u64 = 4096;

/// The detected kind of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// IDX file of unsigned bytes.
    Idx,
    /// Raw PGM (`P5`) or PPM (`P6`) image.
    Pnm,
    /// 16-bit PCM WAV.
    Wav,
    /// Anything else.
    Bytes,
}

/// Where the records are, and the record widths worth trying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// What the file was detected as.
    pub kind: Kind,
    /// Bytes kept verbatim before the records.
    pub prefix_len: usize,
    /// Candidate bytes per record (D), best guess first; never empty, never 0.
    pub widths: Vec<usize>,
    /// Prediction transforms the records may be coded with, best guess first.
    pub transforms: Vec<Transform>,
    /// The stride, in variables, from a value to the one "above" it inside a record (an
    /// IDX item's row, a pixel's channel count, a WAV sample's two bytes), for the pcmix
    /// codec's spatial contexts; 0 when unknown.
    pub row: usize,
}

/// Detects a structured layout (IDX, PGM/PPM, WAV); `None` for plain bytes.
pub fn detect_structured(bytes: &[u8]) -> Option<Detected> {
    idx_layout(bytes)
        .or_else(|| pnm_layout(bytes))
        .or_else(|| wav_layout(bytes))
}

fn idx_layout(bytes: &[u8]) -> Option<Detected> {
    let h = IdxHeader::parse(bytes).ok()?;
    let record = h.record_len()?;
    let fills = h.data_len()?.checked_add(h.header_len as u64)? == bytes.len() as u64;
    let row = u64::from(*h.dims.last()?);
    let mut widths = vec![record as usize];
    if (2..record).contains(&row) {
        widths.push(row as usize);
    }
    (fills && h.records() > 0 && (1..=MAX_IDX_RECORD).contains(&record)).then_some(Detected {
        kind: Kind::Idx,
        prefix_len: h.header_len,
        widths,
        transforms: Vec::new(),
        row: if h.dims.len() > 2 { row as usize } else { 0 },
    })
}

/// A raw 8-bit PGM/PPM: the parser accepts no bytes after the raster, so the raster is
/// the last `W x H x C` bytes of the file and everything before it is the header.
fn pnm_layout(bytes: &[u8]) -> Option<Detected> {
    if !matches!(bytes.get(..2), Some(b"P5" | b"P6")) {
        return None;
    }
    let (shape, samples) = pnm::parse_pnm(bytes, bytes.len() as u64).ok()?;
    let start = bytes.len() - samples.len();
    let channels = usize::from(shape.channels);
    Some(Detected {
        kind: Kind::Pnm,
        prefix_len: start,
        widths: IMAGE_RUN_PIXELS.iter().map(|p| p * channels).collect(),
        transforms: image_transforms(shape.width as usize, shape.channels),
        row: channels,
    })
}

/// MED residuals of a raster; for RGB, with red and blue relative to green first.
fn image_transforms(width: usize, channels: u8) -> Vec<Transform> {
    let green = (channels == 3).then(|| Transform::med(width, channels, true));
    let plain = Some(Transform::med(width, channels, false));
    [green, plain]
        .into_iter()
        .flatten()
        .filter_map(|t| t.ok())
        .collect()
}

/// A RIFF/WAVE file with a PCM (or extensible) 16-bit `fmt ` chunk: the prefix ends where
/// the `data` payload starts.
fn wav_layout(bytes: &[u8]) -> Option<Detected> {
    if bytes.get(..4)? != b"RIFF" || bytes.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut pos = 12usize;
    let mut pcm16 = false;
    while let Some(header) = bytes.get(pos..pos + 8) {
        let id = &header[..4];
        let size = u32::from_le_bytes(header[4..8].try_into().ok()?) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            let fmt = bytes.get(body..body + 16)?;
            let format = u16::from_le_bytes([fmt[0], fmt[1]]);
            let bits = u16::from_le_bytes([fmt[14], fmt[15]]);
            pcm16 = matches!(format, 1 | 0xFFFE) && bits == 16;
        } else if id == b"data" {
            return pcm16.then(|| Detected {
                kind: Kind::Wav,
                prefix_len: body,
                widths: WAV_RECORD_SAMPLES.iter().map(|s| 2 * s).collect(),
                transforms: Vec::new(),
                row: 2,
            });
        }
        pos = body.checked_add(size)?.checked_add(size & 1)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit mono PCM WAV of `samples`.
    pub fn wav(samples: &[i16]) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        for v in [1u16, 1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&8000u32.to_le_bytes());
        out.extend_from_slice(&16000u32.to_le_bytes());
        for v in [2u16, 16] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&data);
        out
    }

    #[test]
    fn detects_wav_payload_start() {
        let layout = detect_structured(&wav(&[1, -2, 3])).unwrap();
        assert_eq!(layout.kind, Kind::Wav);
        assert_eq!(layout.prefix_len, 44);
        assert_eq!(layout.widths[0], 2 * WAV_RECORD_SAMPLES[0]);
    }

    #[test]
    fn detects_pgm_raster_start() {
        let mut pgm = b"P5\n# c\n3 2\n255\n".to_vec();
        let header = pgm.len();
        pgm.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        let layout = detect_structured(&pgm).unwrap();
        assert_eq!((layout.kind, layout.prefix_len), (Kind::Pnm, header));
        assert_eq!(layout.widths[0], IMAGE_RUN_PIXELS[0]);
        assert_eq!(
            layout.transforms,
            vec![Transform::med(3, 1, false).unwrap()]
        );
        pgm.push(b'\n');
        assert_eq!(detect_structured(&pgm), None, "not a valid PGM any more");
    }

    #[test]
    fn detects_idx_items() {
        let mut idx = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3];
        idx.extend_from_slice(&[7; 12]);
        let layout = detect_structured(&idx).unwrap();
        assert_eq!((layout.kind, layout.prefix_len), (Kind::Idx, 16));
        assert_eq!(layout.widths, vec![6, 3], "one item, then one row");
        idx.push(0);
        assert_eq!(detect_structured(&idx), None, "data must fill the file");
    }

    #[test]
    fn plain_bytes_and_broken_headers_are_not_structured() {
        for bytes in [
            &b""[..],
            b"hello world",
            b"RIFF\x10\0\0\0WAVEdata",
            b"P5\n9 9\n255\n",
        ] {
            assert_eq!(detect_structured(bytes), None, "{bytes:?}");
        }
    }
}
