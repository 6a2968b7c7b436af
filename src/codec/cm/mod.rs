//! The `cm` codec (format-spec/FORMAT.md section 6.2): a chunk's raw bytes coded as one stream of
//! binary decisions, each predicted by a PAQ-style context-mixing model.
//!
//! Text and other byte streams without a record structure are what the circuit codecs
//! cannot model; a general-purpose dictionary coder (zstd, xz) is what pcz fell back to.
//! Context mixing beats those on such data because it predicts each bit from many
//! contexts at once (the preceding 1, 2, 3, 4 and 6 bytes, the current word, the longest
//! earlier repeat of the recent bytes) and learns online how far to trust each of them
//! in the situation at hand. It is built from the integer pieces of [`crate::mix`]
//! (counters, mixer, APMs) and the binary range coder of [`crate::coder`], so it decodes
//! identically on every machine.
//!
//! Measured (informative): alice29.txt 152,089 bytes -> 38,588 (xz -9e: 48,528), a 1 MB
//! English text 243,912 (xz: 292,128), 2.7 MB of DNA symbols 563,220 (xz: 606,552);
//! about 1.1 to 1.5 MB/s to encode or decode on one core of a busy 2-core EPYC, most of
//! it spent waiting for the hashed tables' cache lines.
//!
//! The payload is the coder's stream alone; the byte count comes from the container.
//! Memory is bounded by [`memory_bound`] of the byte count.

mod matcher;
mod model;

use crate::coder::{Decoder, Encoder};
use crate::error::{Error, Result};
use model::Model;

pub use model::memory_bound;

/// Codes `data` (any bytes, possibly empty).
pub fn encode(data: &[u8]) -> Result<Vec<u8>> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let mut model = Model::new(data.len());
    let mut encoder = Encoder::new();
    for (i, &byte) in data.iter().enumerate() {
        for j in (0..8).rev() {
            let bit = (byte >> j) & 1 == 1;
            encoder.encode_bit(bit, model.p())?;
            model.update(bit);
        }
        model.end_byte(&data[..=i]);
    }
    Ok(encoder.finish())
}

/// Decodes a payload back to exactly `len` bytes; errors (never panics) on a corrupt or
/// truncated payload.
pub fn decode(payload: &[u8], len: usize) -> Result<Vec<u8>> {
    if len == 0 {
        return match payload.is_empty() {
            true => Ok(Vec::new()),
            false => Err(Error::format("cm stream", "data for an empty chunk")),
        };
    }
    let mut out = Vec::new();
    out.try_reserve_exact(len)
        .map_err(|_| Error::LimitExceeded(format!("cannot hold {len} decoded bytes")))?;
    let mut decoder = Decoder::new(payload)?;
    let mut model = Model::new(len);
    while out.len() < len {
        let mut byte = 0u8;
        for _ in 0..8 {
            let bit = decoder.decode_bit(model.p())?;
            model.update(bit);
            byte = byte << 1 | u8::from(bit);
        }
        out.push(byte);
        model.end_byte(&out);
    }
    Ok(out)
}

#[cfg(test)]
mod spec_tests;
#[cfg(test)]
mod tests;
