//! The model file: our own little-endian layout (format-spec/MODEL.md), never a serializer's.
//!
//! Every count is validated against the bytes actually present before anything is
//! allocated, and a trailing XXH3-64 checksum covers the whole file.

use super::{Circuit, Tree, MAX_DIMS, MAX_HIDDEN, NO_PARENT};
use crate::bytes::Reader;
use crate::error::{Error, Result};

/// First four bytes of a model file.
pub const MODEL_MAGIC: [u8; 4] = *b"PCZM";
/// Current model format version.
pub const MODEL_VERSION: u16 = 1;

const CONTEXT: &str = "model file";

impl Circuit {
    /// The model file bytes (format-spec/MODEL.md).
    pub fn to_bytes(&self) -> Vec<u8> {
        let d = self.dims();
        let mut out = Vec::with_capacity(16 + d * 10 + 4 * self.size() + 8);
        out.extend_from_slice(&MODEL_MAGIC);
        out.extend_from_slice(&MODEL_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(self.hidden as u32).to_le_bytes());
        out.extend_from_slice(&(d as u32).to_le_bytes());
        for &k in &self.alphabet {
            out.extend_from_slice(&k.to_le_bytes());
        }
        for (&v, &p) in self.tree.vars().iter().zip(self.tree.parents()) {
            out.extend_from_slice(&v.to_le_bytes());
            out.extend_from_slice(&p.to_le_bytes());
        }
        for w in [&self.prior, &self.transition, &self.emission] {
            for x in w.iter() {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
        }
        let sum = xxhash_rust::xxh3::xxh3_64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Parses and validates a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 4 || bytes[..4] != MODEL_MAGIC {
            return Err(Error::format(CONTEXT, "bad magic (not a pcz model)"));
        }
        if bytes.len() < 8 + 16 {
            return Err(Error::format(CONTEXT, "truncated"));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let mut r = Reader::new(body, CONTEXT);
        r.skip(4)?;
        let version = r.u16()?;
        if version != MODEL_VERSION {
            return Err(Error::Unsupported {
                what: format!("model format version {version} (this build reads {MODEL_VERSION})"),
            });
        }
        if r.u16()? != 0 {
            return Err(Error::format(CONTEXT, "reserved flags are not zero"));
        }
        let expected = u64::from_le_bytes(sum.try_into().expect("8 bytes"));
        if xxhash_rust::xxh3::xxh3_64(body) != expected {
            return Err(Error::format(
                CONTEXT,
                "checksum mismatch (file is corrupt)",
            ));
        }
        let hidden = r.u32()? as usize;
        let d = r.u32()? as usize;
        if hidden == 0 || hidden > MAX_HIDDEN || d == 0 || d > MAX_DIMS {
            return Err(Error::format(
                CONTEXT,
                format!("hidden {hidden} or dims {d} out of range"),
            ));
        }
        r.require(d * 10)?;
        let alphabet: Vec<u16> = (0..d).map(|_| r.u16()).collect::<Result<_>>()?;
        let mut vars = Vec::with_capacity(d);
        let mut parent = Vec::with_capacity(d);
        for _ in 0..d {
            vars.push(r.u32()?);
            parent.push(r.u32()?);
        }
        if parent.first() != Some(&NO_PARENT) {
            return Err(Error::format(CONTEXT, "position 0 is not the root"));
        }
        let tree = Tree::new(vars, parent)?;
        if alphabet.iter().any(|&k| k == 0 || k > 256) {
            return Err(Error::format(CONTEXT, "alphabet size outside 1..=256"));
        }
        let emissions: usize = tree
            .vars()
            .iter()
            .map(|&v| alphabet[v as usize] as usize * hidden)
            .sum();
        let transitions = (tree.latent_count() - 1) * hidden * hidden;
        let floats = hidden + transitions + emissions;
        if r.remaining() != floats * 4 {
            return Err(Error::format(
                CONTEXT,
                format!(
                    "{} parameter bytes, structure needs {}",
                    r.remaining(),
                    floats * 4
                ),
            ));
        }
        let mut read = |n: usize| -> Result<Vec<f32>> {
            (0..n).map(|_| r.u32().map(f32::from_bits)).collect()
        };
        let prior = read(hidden)?;
        let transition = read(transitions)?;
        let emission = read(emissions)?;
        Circuit::new(hidden, alphabet, tree, prior, transition, emission)
    }

    /// A 128-bit identity of the model: XXH3-128 of its file bytes. Compressed streams record
    /// it so that decoding with a different model is refused.
    pub fn hash(&self) -> u128 {
        xxhash_rust::xxh3::xxh3_128(&self.to_bytes())
    }
}
