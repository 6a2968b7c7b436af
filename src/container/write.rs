//! Writing a container: layout, model section, chunks coded by whichever codec is smallest.

use super::VERSION_TRANSFORM;
use super::{compact, Chunk, Codec, Transform, MAGIC, VERSION_1, VERSION_COMPACT};
use super::{FLAG_MODEL_COMPACT, FLAG_MODEL_EMBEDDED, FLAG_MODEL_REFERENCED};
use super::{FLAG_PNG_PIXELS, FLAG_TRANSFORM};
use crate::circuit::{Circuit, Quantization};
use crate::codec::{cm, default_chunk_records, PcMixCodec, Scheme, ScratchPool};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::borrow::Cow;
use xxhash_rust::xxh3::xxh3_64;

/// Whether the model goes inside the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelMode {
    /// Store only the model's hash and this name; decompression needs the model file.
    Reference(String),
    /// Store the model file inside the container.
    Embed,
    /// Store the model inside the container in compact form, quantized as given (it must be
    /// valid). The chunks are coded with the quantized circuit, the one a decoder sees.
    EmbedCompact(Quantization),
}

/// What to compress and how.
#[derive(Debug, Clone)]
pub struct CompressOptions<'a> {
    /// The circuit for `pc` chunks (records must be `circuit.dims()` bytes), if any.
    pub model: Option<(&'a Circuit, ModelMode)>,
    /// Bytes before the records, kept verbatim (e.g. an IDX header).
    pub prefix_len: usize,
    /// Bytes per record when there is no model (ignored with a model).
    pub record_size: usize,
    /// Records per chunk with a model; `None`: about 4 MiB of records
    /// ([`default_chunk_records`]).
    pub chunk_records: Option<usize>,
    /// zstd level of the fallback codec.
    pub zstd_level: i32,
    /// Code the records as these residuals (the model must be trained on residuals).
    pub transform: Option<Transform>,
    /// The input is a PNG's pixels as a PGM/PPM, to be decompressed to a PNG.
    pub png_pixels: bool,
    /// Row stride inside a record for the `pcmix` codec's spatial contexts (the variable
    /// "above" v is v - row); 0 when the records have no rows. At most the record size.
    pub row: usize,
    /// When a chunk may use the `pcmix` codec instead of `pc`.
    pub mix: MixPolicy,
    /// When a chunk without circuit payloads may use the byte-stream `cm` codec (`None`:
    /// never, and it is not tried).
    pub cm: Option<CmPolicy>,
}

/// When a chunk without circuit payloads may use the byte-stream `cm` codec. It decodes at
/// 1-2 MB/s where zstd decodes at hundreds: a small saving is a poor trade, and on a large
/// chunk the decoding time can matter more than the size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CmPolicy {
    /// Largest chunk tried, in bytes: bounds the time cm adds to decoding.
    pub max_bytes: usize,
    /// Kept when its payload is at most this fraction of the smaller of zstd and stored.
    pub fraction: f64,
}

impl CmPolicy {
    /// Any chunk, whenever cm is smaller.
    pub const SMALLEST: CmPolicy = CmPolicy {
        max_bytes: usize::MAX,
        fraction: 1.0,
    };
}

/// When a chunk may use the `pcmix` codec. pcmix decodes several times slower than `pc`
/// when the circuit is small (its per-bit context models then cost more than the circuit),
/// so a small saving can be a poor trade.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MixPolicy {
    /// Never; pcmix is not even tried, which also makes compression faster.
    Never,
    /// When its payload is at most a fraction of the chunk's smallest other coding (`pc`,
    /// zstd or stored): a small saving over zstd is as poor a trade as one over `pc`.
    AtMost {
        /// The fraction (1.0: whenever it is not larger).
        fraction: f64,
        /// The scheme its chunks are coded with.
        scheme: Scheme,
    },
}

impl MixPolicy {
    /// Whether a `pcmix` payload of `mix` bytes is kept over the smallest other coding of
    /// its chunk, `other` bytes (never on a tie: the other decodes faster).
    pub fn keeps(self, other: usize, mix: usize) -> bool {
        match self {
            MixPolicy::Never => false,
            MixPolicy::AtMost { fraction, .. } => {
                mix < other && mix as f64 <= fraction * other as f64
            }
        }
    }

    /// pcmix whenever it is not larger, with the fullest scheme: what a caller with a
    /// trained model wants (its strong circuit gains most from `ModeFirst`).
    pub const SMALLEST: MixPolicy = MixPolicy::AtMost {
        fraction: 1.0,
        scheme: Scheme::ModeFirst,
    };
}

impl Default for CompressOptions<'_> {
    fn default() -> Self {
        CompressOptions {
            model: None,
            prefix_len: 0,
            record_size: 1,
            chunk_records: None,
            zstd_level: 19,
            transform: None,
            png_pixels: false,
            row: 0,
            mix: MixPolicy::SMALLEST,
            cm: None,
        }
    }
}

/// Compresses `input` into a `.pcz` container.
pub fn compress(input: &[u8], options: &CompressOptions<'_>) -> Result<Vec<u8>> {
    Staged::new(input, options, None)?.finish(options.zstd_level)
}

/// One chunk's circuit coding made beforehand: `(pc, pcmix)` =
/// [`PcMixCodec::encode_chunk`] of `records` with the container's circuit and row stride.
/// Self-training codes one of the file's chunks to choose the mix policy, and
/// [`Staged::new`] takes its payloads instead of coding it again.
#[derive(Debug, Clone)]
pub struct KnownChunk<'k> {
    /// The records as coded (residuals when there is a transform).
    pub records: &'k [u8],
    /// The `pc` payload.
    pub pc: Vec<u8>,
    /// The `pcmix` payload.
    pub mix: Vec<u8>,
}

/// A container whose circuit work is done: the layout, the compact model and every chunk's
/// circuit payloads (`pc`, and `pcmix` as the policy allows). Only the zstd pass and the
/// assembly remain, so one staging can be finished at several zstd levels, each giving
/// exactly what [`compress`] gives at that level (self-training tries a fast level first and
/// a slow one only when the fast file does not do).
pub struct Staged<'a> {
    input: &'a [u8],
    options: CompressOptions<'a>,
    d: usize,
    prefix_len: usize,
    count: usize,
    /// The records as coded (residuals when there is a transform).
    records: Cow<'a, [u8]>,
    /// The compact model's bytes, when it is embedded compact.
    compact: Option<Vec<u8>>,
    chunk_records: usize,
    /// Per chunk, the circuit's payloads when its values fit the model's alphabet.
    circuit: Vec<Option<CircuitPayloads>>,
}

/// A chunk's `pc` payload and, when the mix policy tries pcmix, its `pcmix` payload with the
/// codec of its scheme.
type CircuitPayloads = (Vec<u8>, Option<(Codec, Vec<u8>)>);

impl<'a> Staged<'a> {
    /// Lays out `input` and codes every chunk with the circuit (chunks in parallel), but a
    /// chunk of exactly the `known` records, whose payloads are taken as they are.
    pub fn new(
        input: &'a [u8],
        options: &CompressOptions<'a>,
        known: Option<&KnownChunk<'_>>,
    ) -> Result<Staged<'a>> {
        let d = match &options.model {
            Some((c, _)) => c.dims(),
            None => options.record_size.max(1),
        };
        let prefix_len = options.prefix_len.min(input.len());
        let body = &input[prefix_len..];
        let count = body.len() / d;
        let records = &body[..count * d];
        let records = match options.transform {
            Some(t) => Cow::Owned(t.residuals(records)),
            None => Cow::Borrowed(records),
        };
        let compact = match &options.model {
            Some((c, ModelMode::EmbedCompact(q))) => Some(compact::encode(c, *q)?),
            _ => None,
        };
        let circuit = match (&compact, &options.model) {
            (Some((quantized, _)), _) => Some(quantized),
            (None, model) => model.as_ref().map(|(c, _)| *c),
        };
        let codec = circuit.map(PcMixCodec::new);
        let chunk_records = if codec.is_some() {
            options
                .chunk_records
                .unwrap_or_else(|| default_chunk_records(d))
                .max(1)
        } else {
            // Without a model records are plain bytes: chunks of about 8 MiB give zstd a
            // long window (within 0.1 % of one zstd frame on MNIST) and still decode in
            // parallel.
            (8 << 20) / d + 1
        };
        let pool = ScratchPool::default();
        let payloads: Vec<Option<CircuitPayloads>> = records
            .par_chunks(chunk_records * d)
            .map(|raw| match (&codec, known.filter(|k| k.records == raw)) {
                (Some(_), Some(k)) => Ok(Some(by_policy(k.pc.clone(), k.mix.clone(), options.mix))),
                (Some(c), None) => circuit_payloads(raw, c, options.row, options.mix, &pool),
                (None, _) => Ok(None),
            })
            .collect::<Result<_>>()?;
        Ok(Staged {
            input,
            options: options.clone(),
            d,
            prefix_len,
            count,
            records,
            compact: compact.map(|(_, bytes)| bytes),
            chunk_records,
            circuit: payloads,
        })
    }

    /// The container with chunks the circuit loses coded by zstd at `zstd_level`.
    pub fn finish(&self, zstd_level: i32) -> Result<Vec<u8>> {
        let (input, options, d) = (self.input, &self.options, self.d);
        let prefix_len = self.prefix_len;
        let suffix = &input[prefix_len + self.count * d..];
        let policy = Policy {
            level: zstd_level,
            mix: options.mix,
            cm: options.cm,
        };
        let coded: Vec<(Chunk, Vec<u8>)> = self
            .records
            .par_chunks(self.chunk_records * d)
            .zip(self.circuit.par_iter())
            .map(|(raw, circuit)| code_chunk(raw, d, circuit.as_ref(), policy))
            .collect::<Result<_>>()?;
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        let (version, model_flag) = match &options.model {
            Some((_, ModelMode::Embed)) => (VERSION_1, FLAG_MODEL_EMBEDDED),
            Some((_, ModelMode::Reference(_))) => (VERSION_1, FLAG_MODEL_REFERENCED),
            Some((_, ModelMode::EmbedCompact(_))) => (VERSION_COMPACT, FLAG_MODEL_COMPACT),
            None => (VERSION_1, 0),
        };
        let mut flags = model_flag;
        if options.transform.is_some() {
            flags |= FLAG_TRANSFORM;
        }
        if options.png_pixels {
            flags |= FLAG_PNG_PIXELS;
        }
        let mixed = coded.iter().map(|(c, _)| c.codec.version()).max();
        let version = if let Some(v) = mixed.filter(|&v| v > VERSION_TRANSFORM) {
            v
        } else if flags & (FLAG_TRANSFORM | FLAG_PNG_PIXELS) != 0 {
            VERSION_TRANSFORM
        } else {
            version
        };
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&(input.len() as u64).to_le_bytes());
        out.extend_from_slice(&(d as u32).to_le_bytes());
        out.extend_from_slice(&(self.count as u64).to_le_bytes());
        put_bytes(&mut out, &input[..prefix_len]);
        put_bytes(&mut out, suffix);
        if let Some(transform) = &options.transform {
            transform.write(&mut out);
        }
        if let Some((c, mode)) = &options.model {
            let file;
            let bytes: &[u8] = match &self.compact {
                Some(bytes) => bytes,
                None => {
                    file = c.to_bytes();
                    &file
                }
            };
            write_model(&mut out, bytes, mode)?;
        }
        out.extend_from_slice(&(coded.len() as u32).to_le_bytes());
        for (chunk, payload) in &coded {
            out.push(chunk.codec.id());
            out.extend_from_slice(&chunk.records.to_le_bytes());
            out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            out.extend_from_slice(&chunk.checksum.to_le_bytes());
        }
        let header_checksum = xxh3_64(&out);
        out.extend_from_slice(&header_checksum.to_le_bytes());
        for (_, payload) in &coded {
            out.extend_from_slice(payload);
        }
        out.extend_from_slice(&xxh3_64(input).to_le_bytes());
        Ok(out)
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The model section: the hash of `bytes` (a model file or a compact model), then the name
/// of a referenced model or the size and bytes of an embedded one.
fn write_model(out: &mut Vec<u8>, bytes: &[u8], mode: &ModelMode) -> Result<()> {
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes());
    match mode {
        ModelMode::Reference(name) => {
            let name = name.as_bytes();
            let len = u16::try_from(name.len())
                .map_err(|_| Error::parameter("model name longer than 65535 bytes"))?;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(name);
        }
        ModelMode::Embed | ModelMode::EmbedCompact(_) => {
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
    }
    Ok(())
}

/// The circuit's payloads of one chunk (pc and pcmix, from one pass of the circuit, only
/// when the values fit the model's alphabet; pcmix with row stride `row`, as `mix` allows,
/// in a scratch of `pool`).
fn circuit_payloads(
    raw: &[u8],
    codec: &PcMixCodec,
    row: usize,
    mix: MixPolicy,
    pool: &ScratchPool,
) -> Result<Option<CircuitPayloads>> {
    if !codec.pc().accepts(raw) {
        return Ok(None);
    }
    Ok(Some(match mix {
        MixPolicy::Never => (codec.pc().encode_chunk(raw)?, None),
        MixPolicy::AtMost { scheme, .. } => {
            let (pc, payload) = pool.with(|s| codec.encode_chunk_in(raw, row, scheme, s))?;
            by_policy(pc, payload, mix)
        }
    }))
}

/// A chunk's `pc` payload and its `pcmix` payload, with the codec of `policy`'s scheme.
fn by_policy(pc: Vec<u8>, mix: Vec<u8>, policy: MixPolicy) -> CircuitPayloads {
    let kept = match policy {
        MixPolicy::AtMost { scheme, .. } => Some((Codec::mixed(scheme), mix)),
        MixPolicy::Never => None,
    };
    (pc, kept)
}

/// Whether the container would code the chunk `raw` (records of `d` bytes) with its `pcmix`
/// payload `mix` under `policy`, its other codings being `pc` and zstd at `level`.
pub fn mix_kept(
    raw: &[u8],
    d: usize,
    (pc, mix): (&[u8], &[u8]),
    policy: MixPolicy,
    level: i32,
) -> Result<bool> {
    let coded = by_policy(pc.to_vec(), mix.to_vec(), policy);
    let policy = Policy {
        level,
        mix: policy,
        cm: None,
    };
    let (chunk, _) = code_chunk(raw, d, Some(&coded), policy)?;
    Ok(chunk.codec.scheme().is_some())
}

/// What a chunk's coding may try.
#[derive(Debug, Clone, Copy)]
struct Policy {
    /// zstd level.
    level: i32,
    /// When `pcmix` is kept.
    mix: MixPolicy,
    /// When `cm` is tried and kept ([`CompressOptions::cm`]).
    cm: Option<CmPolicy>,
}

/// Keeps the smallest of one chunk's codecs: stored, zstd at `policy.level`, the circuit's
/// payloads `coded` (pcmix only as `policy.mix` allows) or, for a chunk without them,
/// `cm` as `policy.cm` allows (ties: stored, then zstd, then pc, then pcmix, the cheapest
/// to decode first).
///
/// When the circuit's stream is under half the size of a fast zstd pass (level 1), the slow
/// zstd pass is skipped: on such chunks (e.g. MNIST: 1.2 vs ~2.3 bits per pixel) higher zstd
/// levels gain far less than 2x, and skipping saved ~15% of the compression time.
fn code_chunk(
    raw: &[u8],
    d: usize,
    coded: Option<&CircuitPayloads>,
    policy: Policy,
) -> Result<(Chunk, Vec<u8>)> {
    let mut best = (Codec::Stored, raw.to_vec());
    let clear_win = match coded {
        Some((pc, mix)) if policy.level > 1 => {
            let smallest = mix
                .as_ref()
                .map_or(pc.len(), |(_, m)| m.len().min(pc.len()));
            2 * smallest < zstd::bulk::compress(raw, 1)?.len()
        }
        _ => false,
    };
    if !clear_win {
        let zstd = zstd::bulk::compress(raw, policy.level)?;
        if zstd.len() < best.1.len() {
            best = (Codec::Zstd, zstd);
        }
    }
    match (coded, policy.cm) {
        (Some((pc, mix)), _) => {
            if pc.len() < best.1.len() {
                best = (Codec::Pc, pc.clone());
            }
            if let Some((codec, mix)) = mix
                .as_ref()
                .filter(|(_, m)| policy.mix.keeps(best.1.len(), m.len()))
            {
                best = (*codec, mix.clone());
            }
        }
        (None, Some(p)) if raw.len() <= p.max_bytes => {
            let cm = cm::encode(raw)?;
            if cm.len() < best.1.len() && cm.len() as f64 <= p.fraction * best.1.len() as f64 {
                best = (Codec::Cm, cm);
            }
        }
        (None, _) => {}
    }
    let records = u32::try_from(raw.len() / d)
        .map_err(|_| Error::parameter("too many records in a chunk"))?;
    let stored_size =
        u32::try_from(best.1.len()).map_err(|_| Error::parameter("chunk larger than 4 GiB"))?;
    let chunk = Chunk {
        codec: best.0,
        records,
        stored_size,
        checksum: xxh3_64(raw),
    };
    Ok((chunk, best.1))
}
