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
//!    estimate does not see, often gains the rest; nor is it tried on incompressible input
//!    ([`INCOMPRESSIBLE`]). Training stops early when a candidate
//!    is far above a fast zstd level's estimate. Then a quick pass codes each chunk with
//!    the smallest of pc, pcmix, zstd at a fast level, or stored; if the circuit won every
//!    chunk and kept its promise ([`PROMISE`] times the fallback's estimate), that file is
//!    the result. Otherwise the file is
//!    compressed without a model (every chunk zstd -19 or stored) and, when the circuit was
//!    promising, again with it at zstd -19 (only zstd runs again: the circuit's payloads
//!    of the quick pass are kept, and so are those of the pcmix sample, one of the
//!    chunks), and the smaller file is kept. So pcz loses to
//!    its fallback only if the circuit beat zstd on every chunk and the sampled estimate
//!    of the fallback was more than 3% too high.
//! 4. **cm** ([`Plan::cm`]): last, on plain bytes (at levels 5-9 any input) that the
//!    chosen file compresses at all, the model-less file with the byte-stream `cm` codec
//!    replaces the choice when it is smaller by the policy's margin.

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

/// The circuit is not tried when neither its estimate nor the fallback's is below this
/// fraction of the input's size: the input is already compressed (a PNG's deflate stream:
/// both estimates are about its size), context models find nothing either, and the pcmix
/// sample alone would cost as much as training (0.2 to 0.4 s on each PNG of the data, for
/// the fallback's file in the end).
const INCOMPRESSIBLE: f64 = 0.99;

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
/// codec alone, then with `cm` when that is smaller still (the module doc's steps).
/// `note` hears progress messages.
pub fn compress(
    input: &[u8],
    options: &AutoOptions,
    note: &mut dyn FnMut(String),
) -> Result<Outcome> {
    let plan = Plan::for_level(options.level)?;
    let detected = detect(input, options.record_size)?;
    let chosen = circuit_or_fallback(input, &detected, &plan, options, note)?;
    with_cm(input, &detected, &plan, options, chosen, note)
}

/// `chosen`, or the model-less file with `cm` chunks ([`Plan::cm`], on plain bytes only
/// unless [`Plan::cm_every_kind`]) when that is smaller:
/// at most 97% of `chosen` when `chosen` decodes fast (no pcmix chunk), else smaller at
/// all. Made last, and only when some chunk could go to cm, so that the circuit's choice
/// above is weighed against the fast fallback, as it always was (against a cm file, a
/// circuit file of about its size would lose its place though it decodes faster).
fn with_cm(
    input: &[u8],
    detected: &Detected,
    plan: &Plan,
    options: &AutoOptions,
    chosen: Outcome,
    note: &mut dyn FnMut(String),
) -> Result<Outcome> {
    let kind_tried = plan.cm_every_kind || detected.kind == Kind::Bytes;
    let header = container::parse(&chosen.packed, &container::Limits::default())?.header;
    // Not on what nothing compresses (a PNG's deflate stream): cm would find nothing either.
    let compressible = payload_fraction(&header) < INCOMPRESSIBLE;
    let Some(cm) = plan
        .cm
        .filter(|p| input.len() <= p.max_bytes && kind_tried && compressible)
    else {
        return Ok(chosen);
    };
    note("trying cm on the bytes".into());
    let candidate = without_model(input, detected, options, Some(cm))?;
    let fast = !header.chunks.iter().any(|c| c.codec.scheme().is_some());
    let needed = if fast { cm.fraction } else { 1.0 };
    let smaller = (candidate.packed.len() as f64) <= needed * chosen.packed.len() as f64;
    let has_cm = chunk_codecs(&candidate.packed)?.contains(&container::Codec::Cm);
    Ok(match smaller && has_cm {
        true => Outcome {
            fallback_bytes: chosen.fallback_bytes,
            ..candidate
        },
        false => chosen,
    })
}

/// The self-trained circuit's file or the fallback's (zstd and stored chunks), whichever
/// the module doc's steps 1-3 choose.
///
/// The fallback's measure ([`Fallback`]) runs on a thread of its own while this thread
/// trains and, when the measure takes longer (zstd -19 is single-threaded: 2 s on DNA of
/// 2.7 MB), goes on with the circuit's work as if it were promising ([`with_circuit`]):
/// only the choice between the files waits for the fallback's size, and the output does
/// not depend on which finished first. With one rayon thread the measure runs first
/// instead, so that `-T 1` uses one core.
fn circuit_or_fallback(
    input: &[u8],
    detected: &Detected,
    plan: &Plan,
    options: &AutoOptions,
    note: &mut dyn FnMut(String),
) -> Result<Outcome> {
    let body = &input[detected.prefix_len..];
    let (transform, residuals) = match best_transform(&detected.transforms, body) {
        Some((t, r)) => (Some(t), Some(r)),
        None => (None, None),
    };
    let coded = residuals.as_deref().unwrap_or(body);
    let give_up = GIVE_UP * zstd_estimate(body, GIVE_UP_ZSTD_LEVEL)?;
    let job = Job {
        input,
        detected,
        coded,
        transform,
        mix: plan.mix,
        options,
    };
    let incompressible = INCOMPRESSIBLE * input.len() as f64;
    std::thread::scope(|scope| {
        // With one thread (-T 1) the measure is made first, here; the thread only hands it on.
        let measured = (rayon::current_num_threads() == 1)
            .then(|| Fallback::measure(input, detected, options));
        let measure =
            scope.spawn(|| measured.unwrap_or_else(|| Fallback::measure(input, detected, options)));
        let best = policy::best_candidate(coded, &detected.widths, plan, give_up, note)?;
        // Not done early for a circuit that gave up or learnt nothing: it seldom passes.
        let early = match best.as_ref() {
            Some(c) if c.estimate <= give_up && c.estimate < incompressible => {
                match measure.is_finished() {
                    true => None,
                    false => with_circuit(c, &job, None, note)?,
                }
            }
            _ => None,
        };
        let fallback = measure
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let fallback_estimate = fallback.size();
        let compressible = fallback_estimate < incompressible;
        let promising = best.as_ref().filter(|c| {
            c.estimate < TRY_MODEL_BELOW * fallback_estimate
                && (compressible || c.estimate < incompressible)
        });
        let promise = PROMISE * fallback_estimate;
        let circuited = match (promising, early) {
            (None, _) => None,
            (Some(c), Some(early)) => Some(early).filter(|e| e.keeps(c, promise)),
            (Some(c), None) => with_circuit(c, &job, Some(promise), note)?,
        };
        let circuited = match circuited {
            Some(c) if c.all_pc && c.quick.packed.len() as f64 <= promise => {
                return Ok(Outcome {
                    fallback_bytes: fallback.made().map(|f| f.packed.len()),
                    ..c.quick
                });
            }
            other => other,
        };
        let fallback = match fallback {
            Fallback::Made(made) => made,
            Fallback::Estimated(_) => {
                note("compressing with the fallback codec".into());
                without_model(input, detected, options, None)?
            }
        };
        let Some(circuited) = circuited else {
            return Ok(fallback);
        };
        let full = match circuited.full {
            Some(full) => full,
            None => circuited.model.finish(FALLBACK_ZSTD_LEVEL)?,
        };
        let needed = mix_fraction(circuited.mix, &full.packed)?;
        Ok(
            if (full.packed.len() as f64) < needed * fallback.packed.len() as f64 {
                Outcome {
                    fallback_bytes: Some(fallback.packed.len()),
                    ..full
                }
            } else {
                fallback
            },
        )
    })
}

/// What the circuit's work needs besides the candidate.
struct Job<'a> {
    input: &'a [u8],
    detected: &'a Detected,
    /// The records as coded (residuals when there is a transform).
    coded: &'a [u8],
    transform: Option<Transform>,
    /// The level's pcmix policy.
    mix: MixPolicy,
    options: &'a AutoOptions,
}

/// The circuit's files: staged, finished at the quick zstd level and, when a chunk of that
/// went to zstd, at the fallback's.
struct Circuited<'a> {
    model: ModelContainer<'a>,
    /// The pcmix policy the sample chose.
    mix: MixPolicy,
    quick: Outcome,
    /// Every chunk of `quick` is coded by the circuit.
    all_pc: bool,
    /// The container at the fallback's zstd level, made when `all_pc` is false: `quick`
    /// cannot be the result then.
    full: Option<Outcome>,
}

impl Circuited<'_> {
    /// Whether the circuit `c` is kept: without pcmix it must promise to win on its own
    /// estimate (below `promise` bytes).
    fn keeps(&self, c: &policy::Candidate, promise: f64) -> bool {
        self.mix != MixPolicy::Never || c.estimate < promise
    }
}

/// The sample chooses the pcmix policy ([`sampled_mix`]), then the circuit's files are made
/// ([`Circuited`]), unless pcmix is not kept and `best`'s estimate is not below `promise`
/// bytes. `promise` is `None` while the fallback is measured: the files are then made in
/// case the circuit is kept, which the caller decides once the fallback's size is known.
fn with_circuit<'a>(
    best: &'a policy::Candidate,
    job: &Job<'a>,
    promise: Option<f64>,
    note: &mut dyn FnMut(String),
) -> Result<Option<Circuited<'a>>> {
    if job.mix != MixPolicy::Never {
        note("trying pcmix on one chunk".into());
    }
    let (mix, known) = sampled_mix(job.mix, best, job.coded, job.detected.row, job.input.len())?;
    if mix == MixPolicy::Never && promise.is_some_and(|p| best.estimate >= p) {
        return Ok(None);
    }
    note(format!(
        "coding with the circuit (record size {}, {} hidden states)",
        best.record_size,
        best.circuit.hidden()
    ));
    let coding = Coding {
        transform: job.transform,
        mix,
        known: known.as_ref(),
    };
    let model = ModelContainer::stage(job.input, job.detected, best, &coding, job.options)?;
    let quick = model.finish(QUICK_ZSTD_LEVEL)?;
    let all_pc = all_pc(&quick.packed)?;
    let full = match all_pc {
        true => None,
        false => Some(model.finish(FALLBACK_ZSTD_LEVEL)?),
    };
    Ok(Some(Circuited {
        model,
        mix,
        quick,
        all_pc,
        full,
    }))
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
            return Ok(Fallback::Made(without_model(
                input, detected, options, None,
            )?));
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
fn without_model(
    input: &[u8],
    detected: &Detected,
    options: &AutoOptions,
    cm: Option<container::CmPolicy>,
) -> Result<Outcome> {
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
            cm,
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

/// The level's pcmix `policy`, tried on the chunk of `coded` nearest its middle:
/// [`MixPolicy::Never`] when the container would not keep pcmix there (it saves too little
/// over `pc` and over the fallback's zstd level), so that its encoder (several
/// times slower than the circuit alone on small circuits) does not run on the rest of a
/// file where it would not be kept. Also returns the sample's coding, which the container
/// reuses for that chunk instead of coding it again.
fn sampled_mix<'c>(
    policy: MixPolicy,
    best: &policy::Candidate,
    coded: &'c [u8],
    row: usize,
    input_len: usize,
) -> Result<(MixPolicy, Option<KnownChunk<'c>>)> {
    let MixPolicy::AtMost { scheme, .. } = policy else {
        return Ok((policy, None));
    };
    let d = best.record_size;
    let records = coded.len() / d;
    let n = (chunk_bytes(input_len) / d).clamp(1, records.max(1));
    let start = middle_chunk(records, n) * d;
    let sample = &coded[start..(start + n * d).min(records * d)];
    let (quantized, _) = container::compact::encode(&best.circuit, best.quantization)?;
    let codec = PcMixCodec::new(&quantized);
    if sample.is_empty() || !codec.pc().accepts(sample) {
        return Ok((policy, None));
    }
    let (pc, mix) = codec.encode_chunk(sample, row, scheme)?;
    let policy = match container::mix_kept(sample, d, (&pc, &mix), policy, FALLBACK_ZSTD_LEVEL)? {
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

/// The first record of the chunk nearest the middle of `records` records cut in chunks of
/// `n` (as the container cuts them), a whole chunk when there is one.
fn middle_chunk(records: usize, n: usize) -> usize {
    (records.saturating_sub(n) / 2 + n / 2) / n * n
}

/// Bytes of records per chunk for an input of `len` bytes (whatever the thread count, so
/// that the output does not depend on it).
fn chunk_bytes(len: usize) -> usize {
    (len / CHUNKS_AIMED_AT).clamp(MIN_CHUNK_BYTES, MODEL_CHUNK_BYTES)
}

/// The fraction of the fallback's size the circuit's file `packed` must be under: the
/// pcmix policy's own when some chunk uses pcmix (its slow decoding must buy as much
/// against the fallback as against the other codecs of a chunk), else 1.
fn mix_fraction(mix: MixPolicy, packed: &[u8]) -> Result<f64> {
    let MixPolicy::AtMost { fraction, .. } = mix else {
        return Ok(1.0);
    };
    let mixed = chunk_codecs(packed)?.iter().any(|c| c.scheme().is_some());
    Ok(if mixed { fraction } else { 1.0 })
}

/// True when every chunk of `packed` uses a circuit codec (pc or pcmix).
fn all_pc(packed: &[u8]) -> Result<bool> {
    let codecs = chunk_codecs(packed)?;
    Ok(!codecs.is_empty()
        && codecs
            .iter()
            .all(|&c| c == container::Codec::Pc || c.scheme().is_some()))
}

/// The codec of each chunk of the container `packed`.
fn chunk_codecs(packed: &[u8]) -> Result<Vec<container::Codec>> {
    let parsed = container::parse(packed, &container::Limits::default())?;
    Ok(parsed.header.chunks.iter().map(|c| c.codec).collect())
}

/// The chunk payloads of a container with `header` over the record bytes they code (1 for
/// no records): the coding's own ratio, without the container's few dozen bytes, which
/// matter on tiny inputs.
fn payload_fraction(header: &container::Header) -> f64 {
    let coded: u64 = header.chunks.iter().map(|c| u64::from(c.stored_size)).sum();
    let raw = header.record_count * u64::from(header.record_size);
    if raw == 0 {
        1.0
    } else {
        coded as f64 / raw as f64
    }
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
    use crate::codec::Scheme;
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
    fn the_sample_is_a_whole_chunk_near_the_middle() {
        assert_eq!(middle_chunk(5, 10), 0, "fewer records than a chunk");
        assert_eq!(middle_chunk(10, 10), 0);
        assert_eq!(middle_chunk(19, 10), 0, "the second chunk is not whole");
        assert_eq!(middle_chunk(30, 10), 10);
        assert_eq!(middle_chunk(45, 10), 20);
        for records in 10..200 {
            let start = middle_chunk(records, 10);
            assert_eq!(start % 10, 0);
            assert!(start + 10 <= records);
            assert!(start.abs_diff(records / 2) <= 10);
        }
    }

    #[test]
    fn a_file_with_pcmix_chunks_must_beat_the_fallback_by_the_policy_fraction() {
        let mut rng = Rng::new(5);
        let c = crate::circuit::tests::random_circuit(&mut rng, 16, 256, 2);
        let mut x = 0u8;
        let walk: Vec<u8> = (0..16 * 400)
            .map(|i| {
                x = x.wrapping_add(rng.below(3) as u8).wrapping_sub(1);
                (u16::from(x) % c.alphabet()[i % 16]) as u8
            })
            .collect();
        let lean = MixPolicy::AtMost {
            fraction: 0.97,
            scheme: Scheme::Lean,
        };
        let packed = |mix| {
            let options = CompressOptions {
                model: Some((&c, ModelMode::Embed)),
                chunk_records: Some(200),
                row: 4,
                mix,
                ..Default::default()
            };
            container::compress(&walk, &options).unwrap()
        };
        let whenever = MixPolicy::AtMost {
            fraction: 1.0,
            scheme: Scheme::Lean,
        };
        assert_eq!(mix_fraction(lean, &packed(whenever)).unwrap(), 0.97);
        let never = packed(MixPolicy::Never);
        assert_eq!(mix_fraction(lean, &never).unwrap(), 1.0, "no pcmix chunk");
        assert_eq!(mix_fraction(MixPolicy::Never, &never).unwrap(), 1.0);
    }

    #[test]
    fn payload_fraction_is_the_chunks_own_ratio() {
        let fraction = |bytes: &[u8]| {
            let packed = container::compress(bytes, &CompressOptions::default()).unwrap();
            payload_fraction(
                &container::parse(&packed, &Default::default())
                    .unwrap()
                    .header,
            )
        };
        let mut rng = Rng::new(9);
        let noise: Vec<u8> = (0..4096).map(|_| rng.below(256) as u8).collect();
        assert_eq!(fraction(&noise), 1.0);
        assert!(fraction(&[0; 4096]) < 0.01);
        assert_eq!(fraction(&[]), 1.0);
    }

    #[test]
    fn text_goes_to_cm_from_level_3() {
        let text = include_bytes!("../../testdata/kt/o1_mini_sample.jsonl");
        let codecs = |level| {
            let options = AutoOptions {
                level,
                ..Default::default()
            };
            let packed = compress(text, &options, &mut |_| {}).unwrap().packed;
            let parsed = container::parse(&packed, &Default::default()).unwrap();
            assert_eq!(container::decompress(&parsed, None).unwrap(), text);
            let codecs: Vec<_> = parsed.header.chunks.iter().map(|c| c.codec).collect();
            codecs
        };
        assert_eq!(codecs(2), [container::Codec::Zstd]);
        assert_eq!(codecs(3), [container::Codec::Cm]);
        // Only small chunks at levels 3-4 (the container test checks the cap is obeyed).
        let cap = |level| Plan::for_level(level).unwrap().cm.map(|p| p.max_bytes);
        assert_eq!(cap(3), Some(level::CM_MAX_BYTES_FAST));
        assert_eq!(cap(4), Some(level::CM_MAX_BYTES_FAST));
        assert_eq!(cap(5), Some(usize::MAX));
    }

    #[test]
    fn order0_bits_is_the_empirical_entropy() {
        assert_eq!(order0_bits([].into_iter()), 0.0);
        assert_eq!(order0_bits([7; 10].into_iter()), 0.0);
        assert_eq!(order0_bits([0, 1, 2, 3].into_iter()), 8.0);
        assert_eq!(channel_bits(&[0, 5, 1, 5, 2, 5, 3, 5], 2), 8.0);
    }
}
