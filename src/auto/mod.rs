//! Compression with no model given: detect the file's layout, train a small circuit on the
//! file itself, embed it, and keep whichever is smaller, this or the fallback codec alone.
//!
//! 1. **Layout** ([`layout`], [`width`]): IDX, raw PGM/PPM, 16-bit WAV or plain bytes; a
//!    verbatim prefix (header) and candidate record widths. The container's rebuild header
//!    (prefix, record size, suffix) describes the choice, so decoding needs nothing new.
//!    Images are coded as prediction residuals when those have a lower order-0 entropy
//!    than the pixels (nearly always for photographs), and the circuit learns the residuals.
//! 2. **Self-training** ([`policy`]): per candidate width and hidden size (from the
//!    [`level::Plan`] of `--level`), an HCLT learnt on a sample, quantized for the compact
//!    model section, and scored (quantized, as the decoder will see it) on held-out records
//!    plus its compact size. The alphabet of each variable is its largest value + 1,
//!    which keeps emission tables of narrow variables (DNA, small-maxval images) small.
//! 3. **Safety**: the circuit is tried only when its estimate (of the `pc` codec) is below
//!    [`TRY_MODEL_BELOW`] times the fallback's (the model-less file itself for inputs up to
//!    the sampled blocks' size and plain bytes up to 4 MiB, else zstd -19 on sampled
//!    blocks, extrapolated; measured while training runs): the `pcmix` codec, which the
//!    estimate does not see, often gains the rest. Training stops early when a candidate
//!    is far above a fast zstd level's estimate. Then a quick pass codes each chunk with
//!    the smallest of pc, pcmix, zstd at a fast level, or stored; if the circuit won every
//!    chunk and kept its promise ([`PROMISE`] times the fallback's estimate), that file is
//!    the result. Otherwise the file is
//!    compressed without a model (every chunk zstd -19 or stored) and, when the circuit was
//!    promising, again with it at zstd -19 (only zstd runs again: the circuit's payloads
//!    of the quick pass are kept, and so are those of the pcmix sample when it is the
//!    file's only chunk), and the smaller file is kept. So pcz loses to
//!    its fallback only if the circuit beat zstd on every chunk and the sampled estimate
//!    of the fallback was more than 3% too high.

pub mod layout;
pub mod level;
pub mod policy;
pub mod width;

pub use layout::{Detected, Kind};
pub use level::{Plan, DEFAULT_LEVEL};

use crate::codec::PcMixCodec;
use crate::container::Transform;
use crate::container::{self, CompressOptions, KnownChunk, MixPolicy, ModelMode, Staged};
use crate::error::{Error, Result};

/// zstd level of the fallback codec (the level pcz promises not to lose to).
pub const FALLBACK_ZSTD_LEVEL: i32 = 19;

/// zstd level for chunks the circuit loses in the quick pass: zstd -19 runs at about
/// 0.5 MB/s on DNA, slower than the circuit codec itself.
const QUICK_ZSTD_LEVEL: i32 = 9;

/// The circuit must promise at most this fraction of the fallback's estimated size.
const PROMISE: f64 = 0.97;

/// Training stops after a candidate whose estimate is above this multiple of a fast zstd
/// level's estimate ([`GIVE_UP_ZSTD_LEVEL`], which takes milliseconds): the fallback
/// (zstd -19) is smaller still, so the circuit would need the remaining candidates to do
/// far better than the likeliest one.
const GIVE_UP: f64 = 1.5;
const GIVE_UP_ZSTD_LEVEL: i32 = 3;

/// The circuit is tried when its `pc` estimate is below this fraction of the fallback's
/// estimate. Above 1 because `pcmix` codes below the `pc` estimate: on MNIST test
/// (record = one 28-pixel row, 4 hidden states) the estimate is 1.78 bits per byte, 23%
/// above the fallback's, and pcmix codes 1.30, 10% below the fallback.
const TRY_MODEL_BELOW: f64 = 1.3;

/// Blocks sampled to estimate the fallback's size, and their size.
const ESTIMATE_BLOCKS: usize = 2;
const ESTIMATE_BLOCK_BYTES: usize = 256 << 10;

/// Plain bytes up to this size get the fallback made beside training ([`Fallback::Made`]).
const BYTES_MADE_FIRST: usize = 4 << 20;

/// Bytes of records per chunk when a model is used, at most: large enough for zstd to do
/// well on chunks where it beats the model.
const MODEL_CHUNK_BYTES: usize = 256 << 10;

/// Fewest bytes of records per chunk, and the number of chunks aimed at in between: a file
/// of a few hundred KiB still gives every core several chunks to decode (a static model
/// makes a chunk boundary cost only the coder's final bytes and an index entry).
const MIN_CHUNK_BYTES: usize = 64 << 10;
const CHUNKS_AIMED_AT: usize = 16;

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct AutoOptions {
    /// `--level`, 1..=9.
    pub level: u8,
    /// Record width forced by the user (plain bytes or overriding detection).
    pub record_size: Option<usize>,
    /// The input is a PNG's pixels as a PGM/PPM (`--pixels`), to be decompressed to a PNG.
    pub png_pixels: bool,
}

impl Default for AutoOptions {
    fn default() -> Self {
        AutoOptions {
            level: DEFAULT_LEVEL,
            record_size: None,
            png_pixels: false,
        }
    }
}

/// The chosen model, when one was kept.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelSummary {
    /// Hidden states per latent node.
    pub hidden: usize,
    /// How the embedded model is quantized.
    pub quantization: crate::circuit::Quantization,
    /// Bytes of the embedded compact model.
    pub model_bytes: usize,
    /// Held-out bits per byte measured while choosing.
    pub held_out_bits_per_byte: f64,
}

/// The compressed file and how it was made.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The `.pcz` container.
    pub packed: Vec<u8>,
    /// What the input was detected as.
    pub kind: Kind,
    /// Verbatim prefix length.
    pub prefix_len: usize,
    /// Record size in the container.
    pub record_size: usize,
    /// The prediction transform of the records, if the container has one.
    pub transform: Option<Transform>,
    /// The embedded model, if the container has one.
    pub model: Option<ModelSummary>,
    /// Size of the container without a model (fallback codec and stored chunks only), when
    /// it was made: always for inputs up to 512 KiB and plain bytes up to 4 MiB, otherwise
    /// only when the circuit did not win every chunk by a clear margin.
    pub fallback_bytes: Option<usize>,
}

/// Detects the layout of `input`; `record_size` overrides the candidate widths.
pub fn detect(input: &[u8], record_size: Option<usize>) -> Result<Detected> {
    if record_size == Some(0) {
        return Err(Error::parameter("--record-size must be at least 1"));
    }
    let mut detected = layout::detect_structured(input).unwrap_or_else(|| Detected {
        kind: Kind::Bytes,
        prefix_len: 0,
        widths: width::candidates(input),
        transforms: Vec::new(),
        row: 0,
    });
    if let Some(d) = record_size {
        detected.widths = vec![d];
    }
    Ok(detected)
}

/// Compresses `input` with a self-trained circuit when that pays, else with the fallback
/// codec alone. `note` hears progress messages.
///
/// Training and the fallback's measure ([`Fallback`]) are independent, so the measure runs
/// on the thread pool while this thread trains: zstd -19 is single-threaded and, on a file
/// of a few hundred KiB, costs about as much as training.
pub fn compress(
    input: &[u8],
    options: &AutoOptions,
    note: &mut dyn FnMut(String),
) -> Result<Outcome> {
    let plan = Plan::for_level(options.level)?;
    let detected = detect(input, options.record_size)?;
    let body = &input[detected.prefix_len..];
    let (transform, residuals) = match best_transform(&detected.transforms, body) {
        Some((t, r)) => (Some(t), Some(r)),
        None => (None, None),
    };
    let coded = residuals.as_deref().unwrap_or(body);
    let give_up = GIVE_UP * zstd_estimate(body, GIVE_UP_ZSTD_LEVEL)?;
    let mut measured = None;
    let best = rayon::in_place_scope(|scope| {
        scope.spawn(|_| measured = Some(Fallback::measure(input, &detected, options)));
        policy::best_candidate(coded, &detected.widths, &plan, give_up, note)
    })?;
    let fallback = measured.expect("the scope waits for its task")?;
    let fallback_estimate = fallback.size();
    let promising = best
        .as_ref()
        .filter(|c| c.estimate < TRY_MODEL_BELOW * fallback_estimate);
    let (mix, known) = match promising {
        Some(best) => sampled_mix(plan.mix, best, coded, detected.row, input.len())?,
        None => (MixPolicy::Never, None),
    };
    // Without pcmix the circuit must promise to win on its own estimate.
    let promising =
        promising.filter(|c| mix != MixPolicy::Never || c.estimate < PROMISE * fallback_estimate);
    let staged = match promising {
        Some(best) => {
            note(format!(
                "coding with the circuit (record size {}, {} hidden states)",
                best.record_size,
                best.circuit.hidden()
            ));
            let coding = Coding {
                transform,
                mix,
                known: known.as_ref(),
            };
            Some(ModelContainer::stage(
                input, &detected, best, &coding, options,
            )?)
        }
        None => None,
    };
    if let Some(model) = &staged {
        let quick = model.finish(QUICK_ZSTD_LEVEL)?;
        if quick.packed.len() as f64 <= PROMISE * fallback_estimate && all_pc(&quick.packed)? {
            return Ok(Outcome {
                fallback_bytes: fallback.made().map(|f| f.packed.len()),
                ..quick
            });
        }
    }
    let fallback = match fallback {
        Fallback::Made(made) => made,
        Fallback::Estimated(_) => {
            note("compressing with the fallback codec".into());
            without_model(input, &detected, options)?
        }
    };
    match staged {
        Some(model) => {
            let full = model.finish(FALLBACK_ZSTD_LEVEL)?;
            Ok(if full.packed.len() < fallback.packed.len() {
                Outcome {
                    fallback_bytes: Some(fallback.packed.len()),
                    ..full
                }
            } else {
                fallback
            })
        }
        None => Ok(fallback),
    }
}

/// What is known of the fallback's size before the circuit is tried.
enum Fallback {
    /// The model-less file itself: on an input of at most the sampled blocks' size,
    /// estimating costs as much as making it, and it is needed whenever the circuit loses;
    /// so is it on plain bytes of at most [`BYTES_MADE_FIRST`], where the circuit mostly
    /// loses (text, DNA text, mixed binaries) and making the file beside training beats
    /// making it after.
    Made(Outcome),
    /// zstd -19 on sampled blocks of the body, extrapolated ([`zstd_estimate`]).
    Estimated(f64),
}

impl Fallback {
    fn measure(input: &[u8], detected: &Detected, options: &AutoOptions) -> Result<Fallback> {
        let small = input.len() <= ESTIMATE_BLOCKS * ESTIMATE_BLOCK_BYTES;
        if small || (detected.kind == Kind::Bytes && input.len() <= BYTES_MADE_FIRST) {
            return Ok(Fallback::Made(without_model(input, detected, options)?));
        }
        let body = &input[detected.prefix_len..];
        Ok(Fallback::Estimated(zstd_estimate(
            body,
            FALLBACK_ZSTD_LEVEL,
        )?))
    }

    /// The fallback's size in bytes, exact or estimated.
    fn size(&self) -> f64 {
        match self {
            Fallback::Made(made) => made.packed.len() as f64,
            Fallback::Estimated(bytes) => *bytes,
        }
    }

    fn made(&self) -> Option<&Outcome> {
        match self {
            Fallback::Made(made) => Some(made),
            Fallback::Estimated(_) => None,
        }
    }
}

/// The container with no model, every chunk zstd or stored. Unless the user forced a
/// record size, the whole file is plain bytes (record size 1, no prefix): without a circuit
/// a layout buys nothing, and one canonical form keeps model-less files identical whatever
/// the detection found.
fn without_model(input: &[u8], detected: &Detected, options: &AutoOptions) -> Result<Outcome> {
    let (prefix_len, record_size) = if options.record_size.is_some() {
        (detected.prefix_len, detected.widths[0])
    } else {
        (0, 1)
    };
    let packed = container::compress(
        input,
        &CompressOptions {
            prefix_len,
            record_size,
            zstd_level: FALLBACK_ZSTD_LEVEL,
            png_pixels: options.png_pixels,
            ..Default::default()
        },
    )?;
    Ok(Outcome {
        fallback_bytes: Some(packed.len()),
        packed,
        kind: detected.kind,
        prefix_len,
        record_size,
        transform: None,
        model: None,
    })
}

/// How the records go to the circuit: the prediction transform, the mix policy and the
/// sample chunk coded while choosing that policy.
#[derive(Clone, Copy)]
struct Coding<'k> {
    transform: Option<Transform>,
    mix: MixPolicy,
    known: Option<&'k KnownChunk<'k>>,
}

/// The container with a self-trained circuit embedded, its circuit payloads coded once
/// ([`Staged`]): finishing it at the quick zstd level and, when that file does not do, at
/// the fallback's level codes every chunk with the circuit only once.
struct ModelContainer<'a> {
    staged: Staged<'a>,
    /// What the outcome says besides the packed bytes.
    summary: Outcome,
}

impl<'a> ModelContainer<'a> {
    fn stage(
        input: &'a [u8],
        detected: &Detected,
        best: &'a policy::Candidate,
        coding: &Coding,
        options: &AutoOptions,
    ) -> Result<Self> {
        let Coding {
            transform,
            mix,
            known,
        } = *coding;
        let d = best.record_size;
        let staged = Staged::new(
            input,
            &CompressOptions {
                model: Some((&best.circuit, ModelMode::EmbedCompact(best.quantization))),
                prefix_len: detected.prefix_len,
                chunk_records: Some((chunk_bytes(input.len()) / d).max(1)),
                transform,
                png_pixels: options.png_pixels,
                row: detected.row,
                mix,
                ..Default::default()
            },
            known,
        )?;
        let summary = Outcome {
            packed: Vec::new(),
            kind: detected.kind,
            prefix_len: detected.prefix_len,
            record_size: d,
            transform,
            model: Some(ModelSummary {
                hidden: best.circuit.hidden(),
                quantization: best.quantization,
                model_bytes: best.model_bytes,
                held_out_bits_per_byte: best.bits_per_byte,
            }),
            fallback_bytes: None,
        };
        Ok(ModelContainer { staged, summary })
    }

    /// The container; chunks the circuit loses go to zstd at `zstd_level`.
    fn finish(&self, zstd_level: i32) -> Result<Outcome> {
        Ok(Outcome {
            packed: self.staged.finish(zstd_level)?,
            ..self.summary.clone()
        })
    }
}

/// The transform whose residuals over `body` have the lowest order-0 entropy per channel,
/// and those residuals, when that entropy is below the bytes' own: a cheap test that keeps
/// the transform off synthetic images (few colours, hard edges) where it scatters values
/// instead of concentrating them. Per channel, so that removing what the channels share
/// (red and blue minus green) shows.
fn best_transform(transforms: &[Transform], body: &[u8]) -> Option<(Transform, Vec<u8>)> {
    let mut best: Option<(f64, Transform, Vec<u8>)> = None;
    // The bytes' own entropy, per channel count (all of one image's transforms share it).
    let mut own: Option<(usize, f64)> = None;
    for &t in transforms {
        let c = t.channels();
        let own_bits = match own {
            Some((k, bits)) if k == c => bits,
            _ => {
                let bits = channel_bits(body, c);
                own = Some((c, bits));
                bits
            }
        };
        let residuals = t.residuals(body);
        let bits = channel_bits(&residuals, c);
        if bits < own_bits && best.as_ref().is_none_or(|b| bits < b.0) {
            best = Some((bits, t, residuals));
        }
    }
    best.map(|(_, t, r)| (t, r))
}

/// The order-0 empirical entropies of the `c` interleaved channels of `bytes`, summed.
fn channel_bits(bytes: &[u8], c: usize) -> f64 {
    (0..c)
        .map(|k| order0_bits(bytes.iter().skip(k).step_by(c).copied()))
        .sum()
}

/// The order-0 empirical entropy of `bytes`, in bits (n log2 n - sum c log2 c).
fn order0_bits(bytes: impl Iterator<Item = u8>) -> f64 {
    let mut counts = [0u64; 256];
    let mut n = 0u64;
    bytes.for_each(|b| {
        counts[usize::from(b)] += 1;
        n += 1;
    });
    let n = n as f64;
    let spread: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 * (c as f64).log2())
        .sum();
    n * n.max(1.0).log2() - spread
}

/// The level's pcmix `policy`, tried on one chunk's worth of records from the middle of
/// `coded`: [`MixPolicy::Never`] when pcmix does not save enough there, so that its
/// encoder (several times slower than the circuit alone on small circuits) does not run on
/// the rest of a file where it would not be kept. Also returns the sample's coding, which
/// the container reuses when the sample is a whole chunk (a file of one chunk).
fn sampled_mix<'c>(
    policy: MixPolicy,
    best: &policy::Candidate,
    coded: &'c [u8],
    row: usize,
    input_len: usize,
) -> Result<(MixPolicy, Option<KnownChunk<'c>>)> {
    if policy == MixPolicy::Never {
        return Ok((policy, None));
    }
    let d = best.record_size;
    let records = coded.len() / d;
    let n = (chunk_bytes(input_len) / d).clamp(1, records.max(1));
    let start = (records.saturating_sub(n) / 2) * d;
    let sample = &coded[start..(start + n * d).min(records * d)];
    let (quantized, _) = container::compact::encode(&best.circuit, best.quantization)?;
    let codec = PcMixCodec::new(&quantized);
    if sample.is_empty() || !codec.pc().accepts(sample) {
        return Ok((policy, None));
    }
    let MixPolicy::AtMost { scheme, .. } = policy else {
        return Ok((policy, None));
    };
    let (pc, mix) = codec.encode_chunk(sample, row, scheme)?;
    let policy = match policy.keeps(pc.len(), mix.len()) {
        true => policy,
        false => MixPolicy::Never,
    };
    let known = KnownChunk {
        records: sample,
        pc,
        mix,
    };
    Ok((policy, Some(known)))
}

/// Bytes of records per chunk for an input of `len` bytes (whatever the thread count, so
/// that the output does not depend on it).
fn chunk_bytes(len: usize) -> usize {
    (len / CHUNKS_AIMED_AT).clamp(MIN_CHUNK_BYTES, MODEL_CHUNK_BYTES)
}

/// True when every chunk of `packed` uses a circuit codec (pc or pcmix).
fn all_pc(packed: &[u8]) -> Result<bool> {
    let parsed = container::parse(packed, &container::Limits::default())?;
    let chunks = &parsed.header.chunks;
    Ok(!chunks.is_empty()
        && chunks
            .iter()
            .all(|c| c.codec == container::Codec::Pc || c.codec.scheme().is_some()))
}

/// The size of `body` through zstd at `level`, extrapolated from a few evenly spaced blocks.
fn zstd_estimate(body: &[u8], level: i32) -> Result<f64> {
    if body.len() <= ESTIMATE_BLOCKS * ESTIMATE_BLOCK_BYTES {
        return Ok(zstd::bulk::compress(body, level)?.len() as f64);
    }
    let stride = body.len() / ESTIMATE_BLOCKS;
    let mut coded = 0;
    for b in 0..ESTIMATE_BLOCKS {
        let block = &body[b * stride..b * stride + ESTIMATE_BLOCK_BYTES];
        coded += zstd::bulk::compress(block, level)?.len();
    }
    let sampled = (ESTIMATE_BLOCKS * ESTIMATE_BLOCK_BYTES) as f64;
    Ok(coded as f64 * body.len() as f64 / sampled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn residuals_are_kept_for_smooth_rasters_only() {
        let t = [Transform::med(32, 1, false).unwrap()];
        let smooth: Vec<u8> = (0..32 * 32).map(|i| (i % 32 + i / 32) as u8).collect();
        assert_eq!(best_transform(&t, &smooth).map(|b| b.0), Some(t[0]));
        // Black and white noise: one bit per pixel as it is, more as residuals.
        let mut rng = Rng::new(3);
        let noise: Vec<u8> = (0..32 * 32).map(|_| 255 * (rng.below(2) as u8)).collect();
        assert!(best_transform(&t, &noise).is_none());
        // Grey stored as RGB: the green-relative residuals are mostly zeros, and win.
        let rgb: Vec<u8> = smooth.iter().flat_map(|&v| [v, v, v]).collect();
        let both = [false, true].map(|g| Transform::med(32, 3, g).unwrap());
        assert_eq!(best_transform(&both, &rgb).map(|b| b.0), Some(both[1]));
    }

    #[test]
    fn order0_bits_is_the_empirical_entropy() {
        assert_eq!(order0_bits([].into_iter()), 0.0);
        assert_eq!(order0_bits([7; 10].into_iter()), 0.0);
        assert_eq!(order0_bits([0, 1, 2, 3].into_iter()), 8.0);
        assert_eq!(channel_bits(&[0, 5, 1, 5, 2, 5, 3, 5], 2), 8.0);
    }
}
