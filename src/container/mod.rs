//! The `.pcz` container (format-spec/FORMAT.md): how the original bytes are rebuilt, the
//! model (embedded or referenced by hash), and a chunk index followed by the chunks.
//!
//! Knows nothing of learning; decoding a `pc` chunk needs only a circuit and the codec.

pub mod compact;
pub mod predict;
mod read;
mod write;

pub use predict::Transform;
pub use read::{parse, Parsed};
pub use write::{
    compress, mix_kept, CmPolicy, CompressOptions, KnownChunk, MixPolicy, ModelMode, Staged,
};

use crate::circuit::Circuit;
use crate::codec::{cm, PcMixCodec, Scheme, Scratch, ScratchPool};
use crate::error::{Error, Result};
use rayon::prelude::*;

/// First four bytes of a `.pcz` file.
pub const MAGIC: [u8; 4] = *b"PCZ\x1a";
/// Newest container format version this build reads and writes. A file is written with the
/// lowest version that has every feature it uses: 7 when a chunk uses the byte-stream `cm`
/// codec (codec 6), 6 when one uses `pcmix` with the lean scheme (codec 5), 5 when one
/// uses the mode-first scheme (codec 4), 4 when one uses the first `pcmix` (codec 3, read
/// but no longer written), else 3 when its records are prediction residuals, else 2 when
/// its model is compact, else 1.
pub const VERSION: u16 = 7;

/// The version that added `pcmix` with the lean mode-first scheme (chunk codec 5).
pub const VERSION_LEAN: u16 = 6;

/// The version that added `pcmix` with the mode-first scheme (chunk codec 4).
pub const VERSION_MODE_FIRST: u16 = 5;

/// The version that added the `pcmix` codec (chunk codec 3).
pub const VERSION_PCMIX: u16 = 4;

/// The version that added prediction residuals and PNG pixels.
pub const VERSION_TRANSFORM: u16 = 3;

/// The first container version, still read (and written for files with neither a compact
/// model nor a transform).
pub const VERSION_1: u16 = 1;

/// The version that added the compact model section.
pub const VERSION_COMPACT: u16 = 2;

/// Flag bit: the file embeds its model.
pub const FLAG_MODEL_EMBEDDED: u16 = 1;
/// Flag bit: the file references an external model by hash.
pub const FLAG_MODEL_REFERENCED: u16 = 2;
/// Flag bit (version 2): the file embeds its model in compact form (quantized weights).
pub const FLAG_MODEL_COMPACT: u16 = 4;
/// Flag bit (version 3): the records are coded as prediction residuals ([`Transform`]).
pub const FLAG_TRANSFORM: u16 = 8;

/// Flag bit (version 3): the original is the pixels of a PNG, as a raw PGM/PPM; a decoder
/// writes them as a PNG (the same pixels, not the same bytes).
pub const FLAG_PNG_PIXELS: u16 = 16;

/// The flag bits that say where the model is; at most one may be set.
pub const MODEL_FLAGS: u16 = FLAG_MODEL_EMBEDDED | FLAG_MODEL_REFERENCED | FLAG_MODEL_COMPACT;

/// How a chunk's payload is coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// The raw bytes.
    Stored,
    /// The circuit codec (records coded with the model).
    Pc,
    /// A zstd frame of the raw bytes (the general-purpose fallback).
    Zstd,
    /// The circuit mixed with adaptive context models, values binarized most significant
    /// bit first (version 4; read, no longer written).
    Pcmix,
    /// `pcmix` with the mode-first scheme (version 5).
    Pcmix2,
    /// `pcmix` with the lean mode-first scheme (version 6).
    Pcmix3,
    /// The raw bytes as one stream through a context-mixing model, no circuit (version 7).
    Cm,
}

impl Codec {
    /// The byte that identifies the codec in the chunk index.
    pub fn id(self) -> u8 {
        match self {
            Codec::Stored => 0,
            Codec::Pc => 1,
            Codec::Zstd => 2,
            Codec::Pcmix => 3,
            Codec::Pcmix2 => 4,
            Codec::Pcmix3 => 5,
            Codec::Cm => 6,
        }
    }

    /// The lowest container version that has this codec.
    pub fn version(self) -> u16 {
        match self {
            Codec::Pcmix => VERSION_PCMIX,
            Codec::Pcmix2 => VERSION_MODE_FIRST,
            Codec::Pcmix3 => VERSION_LEAN,
            Codec::Cm => VERSION,
            _ => VERSION_1,
        }
    }

    /// How a `pcmix` codec binarizes values (None for the other codecs).
    pub fn scheme(self) -> Option<Scheme> {
        match self {
            Codec::Pcmix => Some(Scheme::Msb),
            Codec::Pcmix2 => Some(Scheme::ModeFirst),
            Codec::Pcmix3 => Some(Scheme::Lean),
            _ => None,
        }
    }

    /// The `pcmix` codec of `scheme`.
    pub fn mixed(scheme: Scheme) -> Codec {
        match scheme {
            Scheme::Msb => Codec::Pcmix,
            Scheme::ModeFirst => Codec::Pcmix2,
            Scheme::Lean => Codec::Pcmix3,
        }
    }

    fn from_id(id: u8) -> Result<Self> {
        match id {
            0 => Ok(Codec::Stored),
            1 => Ok(Codec::Pc),
            2 => Ok(Codec::Zstd),
            3 => Ok(Codec::Pcmix),
            4 => Ok(Codec::Pcmix2),
            5 => Ok(Codec::Pcmix3),
            6 => Ok(Codec::Cm),
            other => Err(Error::Unsupported {
                what: format!("chunk codec {other}"),
            }),
        }
    }
}

/// One entry of the chunk index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Chunk {
    /// Codec of the payload.
    pub codec: Codec,
    /// Whole records in the chunk.
    pub records: u32,
    /// Payload bytes in the file.
    pub stored_size: u32,
    /// XXH3-64 of the chunk's records as coded (residuals when the file has a transform).
    pub checksum: u64,
}

/// Where the model comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Model {
    /// No chunk uses the circuit codec.
    None,
    /// An external model file with this hash (and a name to help find it).
    Referenced {
        /// XXH3-128 of the model file.
        hash: u128,
        /// File name given at compression time.
        name: String,
    },
    /// The model file bytes are inside the container.
    Embedded {
        /// XXH3-128 of the model file.
        hash: u128,
        /// Size of the model file.
        bytes: u64,
    },
    /// The model is inside the container in compact form (quantized, entropy-coded).
    Compact {
        /// XXH3-128 of the compact model bytes.
        hash: u128,
        /// Size of the compact model.
        bytes: u64,
    },
}

/// Everything but the chunk payloads: enough to rebuild the original bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Header {
    /// Container version.
    pub version: u16,
    /// Size of the original file.
    pub original_size: u64,
    /// Bytes per record (D).
    pub record_size: u32,
    /// Number of records.
    pub record_count: u64,
    /// Bytes kept verbatim before the records (e.g. an IDX header).
    pub prefix: Vec<u8>,
    /// Bytes kept verbatim after the records (less than one record).
    pub suffix: Vec<u8>,
    /// How the coded records map to the original ones, if they are not the same bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
    /// The original is a PNG's pixels as a PGM/PPM, to be written as a PNG again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub png_pixels: bool,
    /// The model.
    pub model: Model,
    /// The chunk index.
    pub chunks: Vec<Chunk>,
    /// XXH3-64 of the original file.
    pub content_checksum: u64,
}

/// Limits a decoder enforces before allocating.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest original size accepted, and the memory a compact model's weights may take
    /// ([`compact::BYTES_PER_WEIGHT`] each).
    pub max_output: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_output: 4 << 30,
        }
    }
}

/// Decompresses a parsed container. `model` must be given when the file references one.
pub fn decompress(parsed: &Parsed<'_>, external: Option<&Circuit>) -> Result<Vec<u8>> {
    let header = &parsed.header;
    let circuit = resolve_model(parsed, external)?;
    let codec = circuit.as_ref().map(PcMixCodec::new);
    let d = header.record_size as usize;
    let pool = ScratchPool::default();
    let parts: Vec<Vec<u8>> = header
        .chunks
        .par_iter()
        .zip(parsed.payloads.par_iter())
        .enumerate()
        .map(|(i, (chunk, payload))| {
            pool.with(|scratch| decode_chunk(i, chunk, payload, d, codec.as_ref(), scratch))
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(header.original_size as usize);
    out.extend_from_slice(&header.prefix);
    parts.iter().for_each(|p| out.extend_from_slice(p));
    if let Some(transform) = &header.transform {
        transform.restore(&mut out[header.prefix.len()..]);
    }
    out.extend_from_slice(&header.suffix);
    if out.len() as u64 != header.original_size
        || xxhash_rust::xxh3::xxh3_64(&out) != header.content_checksum
    {
        return Err(Error::format("pcz file", "content checksum mismatch"));
    }
    Ok(out)
}

fn resolve_model(parsed: &Parsed<'_>, external: Option<&Circuit>) -> Result<Option<Circuit>> {
    match &parsed.header.model {
        Model::None => Ok(None),
        Model::Embedded { hash, .. } => {
            let circuit = Circuit::from_bytes(parsed.model_bytes)?;
            // The model hash is XXH3-128 of the model file bytes, which are right here; no
            // need to serialise the parsed circuit again.
            check_embedded_hash(parsed.model_bytes, *hash)?;
            Ok(Some(circuit))
        }
        Model::Compact { hash, .. } => {
            check_embedded_hash(parsed.model_bytes, *hash)?;
            let max_weights = parsed.limits.max_output / compact::BYTES_PER_WEIGHT;
            let d = parsed.header.record_size as usize;
            Ok(Some(compact::decode(parsed.model_bytes, d, max_weights)?))
        }
        Model::Referenced { hash, name } => {
            let circuit = external.ok_or_else(|| {
                Error::parameter(format!("this file was compressed with model {name:?} (hash {hash:032x}); pass it with --model"))
            })?;
            if circuit.hash() != *hash {
                return Err(Error::parameter(format!(
                    "wrong model: the file needs {name:?} (hash {hash:032x}), the given model has hash {:032x}",
                    circuit.hash()
                )));
            }
            Ok(Some(circuit.clone()))
        }
    }
}

fn check_embedded_hash(bytes: &[u8], hash: u128) -> Result<()> {
    if xxhash_rust::xxh3::xxh3_128(bytes) != hash {
        return Err(Error::format(
            "pcz file",
            "embedded model does not match its hash",
        ));
    }
    Ok(())
}

fn decode_chunk(
    index: usize,
    chunk: &Chunk,
    payload: &[u8],
    d: usize,
    codec: Option<&PcMixCodec>,
    scratch: &mut Scratch,
) -> Result<Vec<u8>> {
    let raw_size = chunk.records as usize * d;
    let raw = match chunk.codec {
        Codec::Stored => payload.to_vec(),
        Codec::Zstd => zstd::bulk::decompress(payload, raw_size)
            .map_err(|e| Error::format("pcz file", format!("chunk {index}: zstd: {e}")))?,
        Codec::Cm => cm::decode(payload, raw_size)
            .map_err(|e| Error::format("pcz file", format!("chunk {index}: {e}")))?,
        Codec::Pc | Codec::Pcmix | Codec::Pcmix2 | Codec::Pcmix3 => {
            let codec = codec.ok_or_else(|| {
                Error::format(
                    "pcz file",
                    format!("chunk {index} needs a model but none is present"),
                )
            })?;
            if codec.dims() != d {
                return Err(Error::format(
                    "pcz file",
                    "model record size differs from the file's",
                ));
            }
            let records = chunk.records as usize;
            match chunk.codec.scheme() {
                None => codec.pc().decode_chunk(payload, records),
                Some(b) => codec.decode_chunk_in(payload, records, b, scratch),
            }
            .map_err(|e| Error::format("pcz file", format!("chunk {index}: {e}")))?
        }
    };
    if raw.len() != raw_size || xxhash_rust::xxh3::xxh3_64(&raw) != chunk.checksum {
        return Err(Error::format(
            "pcz file",
            format!("chunk {index} checksum mismatch (corrupt data)"),
        ));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests;
